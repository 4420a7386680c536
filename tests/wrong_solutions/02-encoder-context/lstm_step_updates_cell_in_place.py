# replaces: lstm_step
# fails: test_lstm_step
# Right numbers, but it updates the caller's c_{t-1} in place (mul_, add_) to save memory,
# so the state the caller passed in is gone.
def lstm_step(x_t, state, lstm):
    h_prev, c_prev = state
    gates = x_t @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, g, o = gates.chunk(4, dim=-1)
    c_t = c_prev.mul_(torch.sigmoid(f)).add_(torch.sigmoid(i) * torch.tanh(g))
    h_t = torch.sigmoid(o) * torch.tanh(c_t)
    return h_t, c_t
