"""BatchNorm folding: the folded copy has no BatchNorm left and gives the same outputs; the
original network is left as it was."""
from __future__ import annotations

import torch
from torch import nn

from core.model.fusion import fold_batchnorm


def _batchnorms(module: nn.Module) -> int:
    return sum(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in module.modules())


def test_folding_removes_every_batchnorm_of_a_real_model_and_keeps_its_outputs(tiny_model):
    net = tiny_model.network
    before = _batchnorms(net)
    assert before > 20                                   # EfficientNet-Lite0: one per convolution
    x = torch.randn(3, 3, tiny_model.spec.input_size, tiny_model.spec.input_size,
                    generator=torch.Generator().manual_seed(0))
    folded = fold_batchnorm(net, x[:1])
    assert _batchnorms(folded) == 0 and _batchnorms(net) == before
    with torch.inference_mode():
        (s0, m0), (s1, m1) = net(x), folded(x)
    torch.testing.assert_close(s1, s0, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(m1, m0, rtol=1e-4, atol=1e-4)


def test_folding_uses_the_running_statistics_and_affine_weights():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(3, 8, 3, bias=False), nn.BatchNorm2d(8), nn.ReLU(),
                        nn.Conv2d(8, 4, 1), nn.BatchNorm2d(4))
    net.train()
    for _ in range(5):                                   # real running statistics, not 0 and 1
        net(torch.randn(16, 3, 12, 12) * 3 + 1)
    for bn in (net[1], net[4]):
        nn.init.uniform_(bn.weight, 0.5, 2.0)
        nn.init.uniform_(bn.bias, -1.0, 1.0)
    net.eval()
    x = torch.randn(2, 3, 12, 12)
    folded = fold_batchnorm(net, x)
    assert _batchnorms(folded) == 0
    assert isinstance(folded[1], nn.Identity) and folded[0].bias is not None
    with torch.inference_mode():
        torch.testing.assert_close(folded(x), net(x), rtol=1e-5, atol=1e-5)
