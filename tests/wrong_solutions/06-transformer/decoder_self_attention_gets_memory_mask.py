# replaces: decoder_layer
# fails: test_decoder_layer
# Gives the self-attention the source padding mask (and the causal mask) as if it masked the target: right
# shapes only when S = T, and it blocks target positions that are real.
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
        self_mask = causal_mask(y.size(1)) if memory_mask is None else causal_mask(y.size(1)) & memory_mask
        attended, _ = self.self_attn(y, y, y, self_mask)
        y = self.norm1(y + attended)
        attended, _ = self.cross_attn(y, memory, memory, memory_mask)
        y = self.norm2(y + attended)
        return self.norm3(y + self.linear2(F.relu(self.linear1(y))))
