"""PyTorch twin of atelier's C++ classifier (trainer/atelier/trainer/model.h).

Same modules and parameter names, so `load_model("RUN/model.pt")` rebuilds the
model that atelier-trainer saved, and the benchmark trains the identical
architecture in PyTorch eager mode. model.pt is a plain dict read by torch.load:
{"format", "config", "state_dict", "input"}; config holds in_channels,
image_size, width, depth, dropout, batch_norm, heads and classes.
Input: float32 NCHW, pixel / 255, channel order RGB (or one grey channel).
"""
import torch
from torch import nn


class SepConv(nn.Module):
    def __init__(self, cin, cout, batch_norm):
        super().__init__()
        self.dw = nn.Conv2d(cin, cin, 3, padding=1, groups=cin, bias=False)
        self.pw = nn.Conv2d(cin, cout, 1, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(cout) if batch_norm else None

    def forward(self, x):
        x = self.pw(self.dw(x))
        if self.bn is not None:
            x = self.bn(x)
        return torch.relu(x)


class Stage(nn.Module):
    def __init__(self, cin, cout, batch_norm):
        super().__init__()
        self.sep1 = SepConv(cin, cout, batch_norm)
        self.sep2 = SepConv(cout, cout, batch_norm)

    def forward(self, x):
        x = self.sep2(self.sep1(x))
        if x.shape[2] >= 2 and x.shape[3] >= 2:
            x = torch.max_pool2d(x, 2)
        return x


class Stem(nn.Module):
    def __init__(self, cin, cout, batch_norm):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1, bias=not batch_norm)
        self.bn = nn.BatchNorm2d(cout) if batch_norm else None

    def forward(self, x):
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        return torch.relu(x)


class Classifier(nn.Module):
    def __init__(self, in_channels, width, depth, dropout, batch_norm, head_sizes):
        super().__init__()
        self.stem = Stem(in_channels, width, batch_norm)
        stages, c = [], width
        for i in range(depth):
            out = width << i
            stages.append(Stage(c, out, batch_norm))
            c = out
        self.stages = nn.ModuleList(stages)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleList([nn.Linear(c, k) for k in head_sizes])

    def forward(self, x):
        x = self.stem(x)
        for stage in self.stages:
            x = stage(x)
        x = self.dropout(x.mean((2, 3)))
        return [head(x) for head in self.heads]


def load_model(path):
    """Returns (model in eval mode, config dict) from an atelier model.pt or checkpoint."""
    saved = torch.load(path)
    cfg = saved["config"]
    sizes = [len(cfg["classes"][h]) for h in cfg["heads"]]
    model = Classifier(cfg["in_channels"], cfg["width"], cfg["depth"], cfg["dropout"], cfg["batch_norm"], sizes)
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, cfg
