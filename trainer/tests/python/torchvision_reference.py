"""Reference outputs of torchvision models for atelier's parity test.

usage: torchvision_reference.py OUT_DIR ARCH...

For each ARCH, with random weights (fixed seed, batch-norm statistics
randomised too) in eval mode, writes OUT_DIR/ARCH.pth (the state_dict, saved
as a user saves downloaded weights: torch.save(model.state_dict())) and
OUT_DIR/ARCH-reference.pt = {"input": x, "features": f}: x is a 1x3x64x64
tensor of pixel/255 values and f the backbone's features of x after the
ImageNet normalisation (the input of the classification layer atelier
replaces by its heads). Needs python3-torchvision; downloads nothing.
"""
import sys

import torch
import torchvision

MEAN = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
STD = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)


def features(model, arch, x):
    if arch.startswith("resnet"):
        head, model.fc = model.fc, torch.nn.Identity()
        out = model(x)
        model.fc = head
        return out
    if arch == "mobilenet_v3_small":
        x = torch.flatten(model.avgpool(model.features(x)), 1)
        return model.classifier[1](model.classifier[0](x))  # Linear, Hardswish
    raise ValueError(arch)


def main():
    out_dir, archs = sys.argv[1], sys.argv[2:]
    for i, arch in enumerate(archs):
        torch.manual_seed(1234 + i)
        model = getattr(torchvision.models, arch)()
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, torch.nn.BatchNorm2d):
                    m.running_mean.uniform_(-0.2, 0.2)
                    m.running_var.uniform_(0.5, 1.5)
                    m.weight.uniform_(0.5, 1.5)
                    m.bias.uniform_(-0.2, 0.2)
        model.eval()
        torch.save(model.state_dict(), f"{out_dir}/{arch}.pth")
        x = torch.rand(1, 3, 64, 64)
        with torch.no_grad():
            f = features(model, arch, (x - MEAN) / STD)
        torch.save({"input": x, "features": f}, f"{out_dir}/{arch}-reference.pt")
        print(arch, tuple(f.shape))


if __name__ == "__main__":
    main()
