#!/usr/bin/env python3
"""Writes PyTorch golden values for Strata's tests (run by hand, never in CI).

    TORCH_PYTHON=/opt/torch-venv/bin/python cargo xtask golden
    # or: /opt/torch-venv/bin/python scripts/golden/generate.py

Outputs small JSON files in crates/strata/tests/golden/. Every case stores its inputs, so
the Rust tests rebuild the same computation from the file alone. Gradients are taken of
`sum(output * upstream)` with a stored random `upstream`, which exercises the whole Jacobian.
"""
import json
import math
import os
import sys

import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "crates", "strata", "tests", "golden")
torch.manual_seed(1234)
torch.set_default_dtype(torch.float64)  # compute the references in f64, store as numbers


def t(x):
    return x.detach().to(torch.float64).reshape(-1).tolist()


def rand(*shape, lo=-1.0, hi=1.0):
    return torch.rand(*shape) * (hi - lo) + lo


def write(name, payload):
    payload = {"generator": "scripts/golden/generate.py", "torch": torch.__version__, **payload}
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def dense():
    cases = []
    for (n, i, o, bias) in [(4, 5, 3, True), (2, 7, 4, False), (1, 3, 2, True)]:
        x = rand(n, i).requires_grad_()
        w = rand(o, i).requires_grad_()
        b = rand(o).requires_grad_() if bias else None
        y = F.linear(x, w, b)
        up = rand(n, o)
        (y * up).sum().backward()
        case = {"batch": n, "in": i, "out": o, "x": t(x), "weight": t(w), "y": t(y), "upstream": t(up),
                "dx": t(x.grad), "dweight": t(w.grad)}
        if bias:
            case.update({"bias": t(b), "dbias": t(b.grad)})
        cases.append(case)
    write("dense.json", {"cases": cases})


def activations():
    x0 = torch.linspace(-4.0, 4.0, 21).reshape(3, 7)
    up = rand(3, 7)
    fns = {
        "relu": F.relu,
        "leaky_relu_0.1": lambda x: F.leaky_relu(x, 0.1),
        "elu_1.0": lambda x: F.elu(x, 1.0),
        "elu_0.5": lambda x: F.elu(x, 0.5),
        "gelu": F.gelu,
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "softmax": lambda x: F.softmax(x, dim=-1),
        "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    }
    cases = []
    for name, f in fns.items():
        # nudge away from the kinks at 0 so the derivative is unambiguous
        x = (x0 + 1e-3).clone().requires_grad_()
        y = f(x)
        (y * up).sum().backward()
        cases.append({"name": name, "shape": [3, 7], "x": t(x), "y": t(y), "upstream": t(up), "dx": t(x.grad)})
    write("activations.json", {"cases": cases})


def losses():
    cases = []
    n, c = 6, 5
    logits = rand(n, c, lo=-3, hi=3)
    labels = torch.tensor([0, 4, 2, 2, 1, 3])
    for eps in [0.0, 0.1]:
        x = logits.clone().requires_grad_()
        loss = F.cross_entropy(x, labels, label_smoothing=eps)
        loss.backward()
        cases.append({"name": f"cross_entropy_ls{eps}", "kind": "cross_entropy", "label_smoothing": eps,
                      "shape": [n, c], "prediction": t(x), "target": [float(v) for v in labels.tolist()],
                      "target_shape": [n], "loss": loss.item(), "dprediction": t(x.grad)})
    # large logits: stability
    x = (logits * 1000.0).clone().requires_grad_()
    loss = F.cross_entropy(x, labels)
    loss.backward()
    cases.append({"name": "cross_entropy_large_logits", "kind": "cross_entropy", "label_smoothing": 0.0,
                  "shape": [n, c], "prediction": t(x), "target": [float(v) for v in labels.tolist()],
                  "target_shape": [n], "loss": loss.item(), "dprediction": t(x.grad)})
    pred = rand(4, 3, lo=-3, hi=3)
    target01 = (rand(4, 3) > 0).to(torch.float64)
    target = rand(4, 3, lo=-2, hi=2)
    regress = [
        ("bce_with_logits", "bce_with_logits", target01, lambda p, y: F.binary_cross_entropy_with_logits(p, y), {}),
        ("mse", "mse", target, F.mse_loss, {}),
        ("l1", "l1", target, F.l1_loss, {}),
        ("huber_1.0", "huber", target, lambda p, y: F.huber_loss(p, y, delta=1.0), {"delta": 1.0}),
        ("huber_0.5", "huber", target, lambda p, y: F.huber_loss(p, y, delta=0.5), {"delta": 0.5}),
    ]
    for name, kind, y, f, extra in regress:
        x = pred.clone().requires_grad_()
        loss = f(x, y)
        loss.backward()
        cases.append({"name": name, "kind": kind, "shape": [4, 3], "prediction": t(x), "target": t(y),
                      "target_shape": [4, 3], "loss": loss.item(), "dprediction": t(x.grad), **extra})
    write("losses.json", {"cases": cases})


def optimizers():
    p0 = rand(6)
    grads = [rand(6) for _ in range(3)]
    configs = [
        ("sgd", {"lr": 0.1}),
        ("sgd", {"lr": 0.1, "momentum": 0.9}),
        ("sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.1, "weight_decay": 0.01}),
        ("sgd", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.1}),
        ("adam", {"lr": 0.01}),
        ("adam", {"lr": 0.01, "betas": [0.8, 0.99], "eps": 1e-6, "weight_decay": 0.1}),
        ("adamw", {"lr": 0.01}),
        ("adamw", {"lr": 0.02, "weight_decay": 0.1, "betas": [0.85, 0.995]}),
        ("rmsprop", {"lr": 0.01}),
        ("rmsprop", {"lr": 0.01, "alpha": 0.9, "momentum": 0.5, "weight_decay": 0.05}),
        ("adagrad", {"lr": 0.1}),
        ("adagrad", {"lr": 0.1, "lr_decay": 0.05, "weight_decay": 0.02, "eps": 1e-8}),
    ]
    ctor = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW,
            "rmsprop": torch.optim.RMSprop, "adagrad": torch.optim.Adagrad}
    cases = []
    for name, kw in configs:
        p = torch.nn.Parameter(p0.clone())
        opt = ctor[name]([p], **{k: (tuple(v) if isinstance(v, list) else v) for k, v in kw.items()})
        after = []
        for g in grads:
            p.grad = g.clone()
            opt.step()
            after.append(t(p))
        cases.append({"optimizer": name, "hyper": kw, "param": t(p0), "grads": [t(g) for g in grads], "after": after})
    write("optimizers.json", {"cases": cases})


def schedules():
    base = 0.1
    steps = 25

    def run(make):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=base)
        sched = make(opt)
        lrs = []
        for _ in range(steps):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return lrs

    S = torch.optim.lr_scheduler
    cases = [
        {"name": "constant", "lrs": [base] * steps},
        {"name": "step", "step_size": 5, "gamma": 0.5, "lrs": run(lambda o: S.StepLR(o, 5, 0.5))},
        {"name": "exponential", "gamma": 0.9, "lrs": run(lambda o: S.ExponentialLR(o, 0.9))},
        {"name": "cosine", "t_max": 10, "eta_min": 0.001, "lrs": run(lambda o: S.CosineAnnealingLR(o, 10, 0.001))},
        {"name": "linear_warmup_then_cosine", "warmup_steps": 5, "start_factor": 0.1, "t_max": 20, "eta_min": 0.0,
         "lrs": run(lambda o: S.SequentialLR(o, [S.LinearLR(o, 0.1, 1.0, 5), S.CosineAnnealingLR(o, 20, 0.0)], [5]))},
    ]
    write("schedules.json", {"base_lr": base, "cases": cases})


def mlp():
    torch.manual_seed(7)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(), torch.nn.Linear(5, 4), torch.nn.Tanh(),
                                torch.nn.Linear(4, 3))
    x = rand(8, 6, lo=-2, hi=2)
    labels = torch.tensor([0, 1, 2, 1, 0, 2, 2, 1])
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    write("mlp.json", {
        "layers": ["dense", "relu", "dense", "tanh", "dense"],
        "input_shape": [8, 6], "x": t(x), "labels": [float(v) for v in labels.tolist()],
        "params": {k: {"shape": list(v.shape), "value": t(v)} for k, v in model.state_dict().items()},
        "logits": t(logits), "loss": loss.item(),
        "grads": {k: t(v.grad) for k, v in model.named_parameters()},
    })


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dense(); activations(); losses(); optimizers(); schedules(); mlp()
    sys.exit(0)
