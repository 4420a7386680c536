# replaces: decoder_layer
# fails: test_decoder_layer
# Adds the self-attention to y in place (y += attended): the caller's target is changed.
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
        y += attended
        y = self.norm1(y)
        attended, _ = self.cross_attn(y, memory, memory, memory_mask)
        y = self.norm2(y + attended)
        return self.norm3(y + self.linear2(F.relu(self.linear1(y))))
