"""PyTorch twin of atelier's C++ classifier (trainer/atelier/trainer/model.h).

Same modules and parameter names, so `load_model("RUN/model.pt")` rebuilds the
model that atelier-trainer saved, and the benchmark trains the identical
architecture in PyTorch eager mode. model.pt is a plain dict that
torch.load(path, weights_only=True) reads: {"format", "config", "state_dict",
"input", "checksum"}; config holds backbone, normalize, in_channels,
image_size, width, depth, dropout (a float64 scalar tensor: Debian's torch
1.13 cannot read floats with weights_only), batch_norm, heads and classes.
Backbones other than small-cnn are torchvision's models (python3-torchvision)
without their classification layer, with one new linear head per label.
Input: float32 NCHW, pixel / 255, channel order RGB (or one grey channel); the
model applies the ImageNet normalisation itself when config["normalize"] is
"imagenet".
"""
import pickle

import torch
from torch import nn

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalize_input(x, mode):
    """atelier's input normalisation: "none", or "imagenet" (grey: the averages)."""
    if mode != "imagenet":
        return x
    grey = x.shape[1] == 1
    mean = torch.tensor([0.449] if grey else IMAGENET_MEAN, dtype=x.dtype).view(1, -1, 1, 1)
    std = torch.tensor([0.226] if grey else IMAGENET_STD, dtype=x.dtype).view(1, -1, 1, 1)
    return (x - mean) / std


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
    def __init__(self, in_channels, width, depth, dropout, batch_norm, head_sizes, normalize="none"):
        super().__init__()
        self.normalize = normalize
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
        x = self.stem(normalize_input(x, self.normalize))
        for stage in self.stages:
            x = stage(x)
        x = self.dropout(x.mean((2, 3)))
        return [head(x) for head in self.heads]


class TorchvisionClassifier(nn.Module):
    """A torchvision backbone under its own module names, plus dropout and heads."""

    def __init__(self, name, in_channels, dropout, head_sizes, normalize):
        super().__init__()
        import torchvision

        tv = getattr(torchvision.models, name)()
        self.normalize = normalize
        if name.startswith("resnet"):
            if in_channels != 3:
                tv.conv1 = nn.Conv2d(in_channels, 64, 7, 2, 3, bias=False)
            for child in ["conv1", "bn1", "layer1", "layer2", "layer3", "layer4"]:
                setattr(self, child, getattr(tv, child))
            self.kind, dim = "resnet", tv.fc.in_features
        elif name == "mobilenet_v3_small":
            if in_channels != 3:
                tv.features[0][0] = nn.Conv2d(in_channels, 16, 3, 2, 1, bias=False)
            self.features = tv.features
            self.classifier = nn.Sequential(tv.classifier[0])
            self.kind, dim = "mobilenet", tv.classifier[0].out_features
        else:
            raise ValueError("unknown backbone " + name)
        self.dropout = nn.Dropout(dropout)
        self.heads = nn.ModuleList([nn.Linear(dim, k) for k in head_sizes])

    def backbone_features(self, x):
        x = normalize_input(x, self.normalize)
        if self.kind == "resnet":
            x = torch.max_pool2d(torch.relu(self.bn1(self.conv1(x))), 3, 2, 1)
            for layer in [self.layer1, self.layer2, self.layer3, self.layer4]:
                x = layer(x)
            return x.mean((2, 3))
        x = self.features(x).mean((2, 3))
        return nn.functional.hardswish(self.classifier(x))

    def forward(self, x):
        x = self.dropout(self.backbone_features(x))
        return [head(x) for head in self.heads]


def read_file(path):
    """torch.load with weights_only=True; files from before atelier wrote plain
    dicts (TorchScript type tags) need the full unpickler."""
    try:
        return torch.load(path, weights_only=True)
    except pickle.UnpicklingError:
        return torch.load(path)


def load_model(path):
    """Returns (model in eval mode, config dict) from an atelier model.pt or checkpoint."""
    saved = read_file(path)
    cfg = saved["config"]
    sizes = [len(cfg["classes"][h]) for h in cfg["heads"]]
    backbone = cfg.get("backbone", "small-cnn")
    if backbone == "small-cnn":
        model = Classifier(cfg["in_channels"], cfg["width"], cfg["depth"], float(cfg["dropout"]), cfg["batch_norm"], sizes,
                           cfg.get("normalize", "none"))
    else:
        model = TorchvisionClassifier(backbone, cfg["in_channels"], float(cfg["dropout"]), sizes,
                                      cfg.get("normalize", "none"))
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, cfg
