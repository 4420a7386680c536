# replaces: heads
# fails: test_heads
# Views the features as (d_k, h): head i gets features i, i+h, i+2h, ... instead of a contiguous slice.
def split_heads(x, num_heads):
    B, L, d_model = x.shape
    return x.view(B, L, d_model // num_heads, num_heads).permute(0, 3, 1, 2)


def merge_heads(x):
    B, h, L, d_k = x.shape
    return x.permute(0, 2, 3, 1).reshape(B, L, h * d_k)
