# replaces: heads
# fails: test_heads
# Views (B, L, d_model) straight as (B, h, L, d_k) and back: the round trip works, but each "head" mixes positions.
def split_heads(x, num_heads):
    B, L, d_model = x.shape
    return x.view(B, num_heads, L, d_model // num_heads)


def merge_heads(x):
    B, h, L, d_k = x.shape
    return x.reshape(B, L, h * d_k)
