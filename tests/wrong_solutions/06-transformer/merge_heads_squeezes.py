# replaces: heads
# fails: test_heads
# merge_heads squeezes its result (to drop a head dimension it thought was left over):
# right for every length but 1, where the sequence dimension disappears.
def split_heads(x, num_heads):
    B, L, d_model = x.shape
    return x.view(B, L, num_heads, d_model // num_heads).transpose(1, 2)


def merge_heads(x):
    B, h, L, d_k = x.shape
    return x.transpose(1, 2).reshape(B, L, h * d_k).squeeze(1)
