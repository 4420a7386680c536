# replaces: decoder_layer
# fails: test_decoder_layer
# Takes the cross-attention's queries from the layer's input y instead of the self-attention block's output.
class DecoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.cross_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)
        self.norm3 = nn.LayerNorm(d_model)

    def forward(self, y, memory, memory_mask=None):
        attended, _ = self.self_attn(y, y, y, causal_mask(y.size(1)))
        h = self.norm1(y + attended)
        attended, _ = self.cross_attn(y, memory, memory, memory_mask)
        h = self.norm2(h + attended)
        return self.norm3(h + self.linear2(F.relu(self.linear1(h))))
