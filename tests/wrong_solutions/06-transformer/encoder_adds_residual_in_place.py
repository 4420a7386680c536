# replaces: encoder_layer
# fails: test_encoder_layer
# Adds the attention to x in place (x += attended): the caller's input is changed.
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
        x += attended
        x = self.norm1(x)
        return self.norm2(x + self.linear2(F.relu(self.linear1(x))))
