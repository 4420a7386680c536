# replaces: encoder_layer
# fails: test_encoder_layer
# Adds the residual after the norm, x + norm(sublayer(x)), instead of norm(x + sublayer(x)).
class EncoderLayer(nn.Module):
    def __init__(self, d_model, num_heads, d_ff):
        super().__init__()
        self.self_attn = MultiHeadAttention(d_model, num_heads)
        self.linear1 = nn.Linear(d_model, d_ff)
        self.linear2 = nn.Linear(d_ff, d_model)
        self.norm1 = nn.LayerNorm(d_model)
        self.norm2 = nn.LayerNorm(d_model)

    def forward(self, x, mask=None):
        attended, _ = self.self_attn(x, x, x, mask)
        x = x + self.norm1(attended)
        return x + self.norm2(self.linear2(F.relu(self.linear1(x))))
