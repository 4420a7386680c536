# replaces: heads
# fails: test_heads
# split_heads is right, but merge_heads permutes the head dimension last: the merged features interleave the heads
# (feature j of head i lands at j * h + i).
def split_heads(x, num_heads):
    B, L, d_model = x.shape
    return x.view(B, L, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x):
    B, h, L, d_k = x.shape
    return x.permute(0, 2, 3, 1).reshape(B, L, h * d_k)
