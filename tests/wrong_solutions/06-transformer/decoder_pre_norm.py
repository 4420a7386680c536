# replaces: decoder_layer
# fails: test_decoder_layer
# Pre-norm (y + sublayer(norm(y))) instead of the post-norm layer the part asks for.
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
        h = self.norm1(y)
        attended, _ = self.self_attn(h, h, h, causal_mask(y.size(1)))
        y = y + attended
        attended, _ = self.cross_attn(self.norm2(y), memory, memory, memory_mask)
        y = y + attended
        return y + self.linear2(F.relu(self.linear1(self.norm3(y))))
