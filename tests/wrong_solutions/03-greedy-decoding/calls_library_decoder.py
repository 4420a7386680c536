# replaces: greedy
# fails: test_matches_library
# Hands the work to the library instead of writing the loop.
@torch.no_grad()
def greedy(model, src, src_lengths, max_len, bos_id=BOS_ID, eos_id=EOS_ID, pad_id=PAD_ID):
    from course_lib import decoding
    result = decoding.greedy_decode(model, src, src_lengths, max_len=max_len, bos_id=bos_id, eos_id=eos_id,
                                    pad_id=pad_id)
    return result.tokens, result.lengths
