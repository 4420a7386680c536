# replaces: lstm_step
# fails: test_lstm_step
# Splits the stacked gates in the order i, f, o, g (another library's), not torch's i, f, g, o.
def lstm_step(x_t, state, lstm):
    h_prev, c_prev = state
    gates = x_t @ lstm.weight_ih_l0.T + lstm.bias_ih_l0 + h_prev @ lstm.weight_hh_l0.T + lstm.bias_hh_l0
    i, f, o, g = gates.chunk(4, dim=-1)
    c_t = torch.sigmoid(f) * c_prev + torch.sigmoid(i) * torch.tanh(g)
    h_t = torch.sigmoid(o) * torch.tanh(c_t)
    return h_t, c_t
