"""Seeded torch networks for the glassbox.inspect tests, and their modules' outputs recorded by
forward hooks (the oracle of features and activations)."""

from __future__ import annotations

import numpy as np
import torch


def mlp(seed: int = 0) -> torch.nn.Module:
    """Linear, Tanh, Linear, ReLU, Linear, Sigmoid, Linear (torch names "0" ... "6")."""
    torch.manual_seed(seed)
    layers = [torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 7), torch.nn.ReLU()]
    layers += [torch.nn.Linear(7, 6), torch.nn.Sigmoid(), torch.nn.Linear(6, 3)]
    return torch.nn.Sequential(*layers).eval()


class LeNet(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1, self.relu1 = torch.nn.Conv2d(1, 6, 5), torch.nn.ReLU()
        self.pool1 = torch.nn.MaxPool2d(2)
        self.conv2, self.relu2 = torch.nn.Conv2d(6, 16, 5), torch.nn.ReLU()
        self.pool2 = torch.nn.MaxPool2d(2)
        self.fc1, self.relu3 = torch.nn.Linear(16 * 4 * 4, 120), torch.nn.ReLU()
        self.fc2, self.relu4 = torch.nn.Linear(120, 84), torch.nn.ReLU()
        self.fc3 = torch.nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.relu1(self.conv1(x)))
        x = self.pool2(self.relu2(self.conv2(x)))
        x = self.relu3(self.fc1(torch.flatten(x, 1)))
        return self.fc3(self.relu4(self.fc2(x)))


class Residual(torch.nn.Module):
    """conv-bn-relu, a residual block (conv + identity, relu), global pooling and a head."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = torch.nn.Conv2d(2, 4, 3, padding=1)
        self.bn1, self.relu = torch.nn.BatchNorm2d(4), torch.nn.ReLU()
        self.conv2, self.act2 = torch.nn.Conv2d(4, 4, 3, padding=1), torch.nn.Tanh()
        self.pool, self.fc = torch.nn.AdaptiveAvgPool2d(1), torch.nn.Linear(4, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.relu(self.bn1(self.conv1(x)))
        h = self.act2(self.conv2(h) + h)
        return self.fc(torch.flatten(self.pool(h), 1))


def lenet(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return LeNet().eval()


def residual(seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    net = Residual()
    with torch.no_grad():  # running statistics that are not the identity
        net.bn1.running_mean.uniform_(-0.3, 0.3)
        net.bn1.running_var.uniform_(0.5, 2.0)
    return net.eval()


def hooked(net: torch.nn.Module, X: np.ndarray, names: list[str]) -> dict[str, np.ndarray]:
    """The outputs of the modules ``names`` on X, recorded by forward hooks (float32)."""
    seen: dict[str, np.ndarray] = {}
    modules = dict(net.named_modules())
    handles = [
        modules[name].register_forward_hook(
            lambda module, args, out, name=name: seen.__setitem__(name, out.detach().numpy())
        )
        for name in names
    ]
    try:
        with torch.no_grad():
            net(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    finally:
        for handle in handles:
            handle.remove()
    return seen
