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


def recurrent():
    """nn.RNN (tanh), nn.LSTM, nn.GRU: one layer and two layers, one and both directions, full
    length and packed ragged lengths. Loss = sum(output*up_out) + sum(h_n*up_h) (+ c_n)."""
    cases = []
    torch.manual_seed(4)
    for kind in ["rnn", "lstm", "gru"]:
        for (layers, bi, ragged) in [(1, False, False), (2, True, False), (2, True, True), (1, False, True)]:
            b, steps, i, h = 3, 5, 4, 3
            cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[kind]
            m = cls(i, h, num_layers=layers, bidirectional=bi, batch_first=True)
            d = 2 if bi else 1
            x = rand(b, steps, i).requires_grad_()
            h0 = rand(layers * d, b, h).requires_grad_()
            c0 = rand(layers * d, b, h).requires_grad_()
            lengths = [5, 2, 4] if ragged else [steps] * b
            state = (h0, c0) if kind == "lstm" else h0
            if ragged:
                packed = torch.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
                out, st = m(packed, state)
                out, _ = torch.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=steps)
            else:
                out, st = m(x, state)
            hn, cn = (st if kind == "lstm" else (st, None))
            up_out, up_h = rand(*out.shape), rand(*hn.shape)
            loss = (out * up_out).sum() + (hn * up_h).sum()
            case = {"kind": kind, "layers": layers, "bidirectional": bi, "batch": b, "steps": steps,
                    "input": i, "hidden": h, "lengths": [float(v) for v in lengths] if ragged else None,
                    "x": t(x), "h0": t(h0), "output": t(out), "h_n": t(hn), "up_out": t(up_out), "up_h": t(up_h)}
            if kind == "lstm":
                up_c = rand(*cn.shape)
                loss = loss + (cn * up_c).sum()
                case.update({"c0": t(c0), "c_n": t(cn), "up_c": t(up_c)})
            loss.backward()
            case["params"] = {k: {"shape": list(v.shape), "value": t(v)} for k, v in m.state_dict().items()}
            case["grads"] = {k: t(v.grad) for k, v in m.named_parameters()}
            case["dx"], case["dh0"] = t(x.grad), t(h0.grad)
            if kind == "lstm":
                case["dc0"] = t(c0.grad)
            cases.append(case)
    write("recurrent.json", {"cases": cases})


def audio_mfcc():
    """MFCC of a synthetic two-tone signal by librosa (numpy, f64): the reference for
    strata-data's `audio::Mfcc` (Slaney mel scale and norm, power in dB with top_db=80,
    orthonormal DCT-II, no centre padding)."""
    import librosa
    import numpy as np

    cases = []
    for sr, n_fft, hop, n_mels, n_mfcc, window in [(8000, 256, 128, 20, 13, "hann"), (16000, 512, 160, 40, 20, "hamming")]:
        n = sr // 4
        time = np.arange(n) / sr
        y = 0.6 * np.sin(2 * np.pi * 440.0 * time) + 0.3 * np.sin(2 * np.pi * 1250.0 * time + 0.5)
        y = y.astype(np.float32)
        m = librosa.feature.mfcc(y=y.astype(np.float64), sr=sr, n_mfcc=n_mfcc, n_fft=n_fft, hop_length=hop,
                                 n_mels=n_mels, center=False, window=window, power=2.0)
        mel = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels)
        cases.append({"sample_rate": sr, "n_fft": n_fft, "hop": hop, "n_mels": n_mels, "n_mfcc": n_mfcc,
                      "window": window, "signal": [float(v) for v in y], "frames": int(m.shape[1]),
                      "mfcc": [float(v) for v in m.T.reshape(-1)], "mel_filters": [float(v) for v in mel.reshape(-1)]})
    payload = {"generator": "scripts/golden/generate.py", "librosa": librosa.__version__, "cases": cases}
    path = os.path.join(OUT, "audio_mfcc.json")
    with open(path, "w") as f:
        json.dump(payload, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


def conv():
    """Conv1d/Conv2d, pooling and batch norm layers: forward and gradients (issue 3)."""
    cases = []

    def grads(name, y, up, tensors, extra):
        (y * up).sum().backward()
        case = {"layer": name, "y_shape": list(y.shape), "y": t(y), "upstream": t(up), **extra}
        for key, v in tensors.items():
            if v is not None and v.grad is not None:
                case["d" + key] = t(v.grad)
        return case

    conv2d = [  # (n, c, h, w, o, k, stride, padding, dilation, groups, bias)
        (2, 3, 7, 6, 4, (3, 3), 1, 0, 1, 1, True),
        (2, 4, 9, 8, 6, (3, 2), 2, 1, 1, 2, True),
        (1, 2, 8, 9, 3, (3, 3), 1, "same", 2, 1, False),
        (2, 2, 6, 7, 2, (4, 4), 1, "same", 1, 1, True),
        (1, 4, 5, 5, 4, (1, 1), 1, 0, 1, 4, True),
    ]
    for (n, c, h, w, o, k, stride, padding, dilation, groups, bias) in conv2d:
        x = rand(n, c, h, w).requires_grad_()
        wt = rand(o, c // groups, *k).requires_grad_()
        b = rand(o).requires_grad_() if bias else None
        y = F.conv2d(x, wt, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        up = rand(*y.shape)
        extra = {"x_shape": [n, c, h, w], "x": t(x), "weight_shape": list(wt.shape), "weight": t(wt),
                 "filters": o, "kernel": list(k), "stride": stride, "padding": padding,
                 "dilation": dilation, "groups": groups}
        if bias:
            extra["bias"] = t(b)
        cases.append(grads("conv2d", y, up, {"x": x, "weight": wt, "bias": b}, extra))
    for (n, c, l, o, k, stride, padding, dilation, groups) in [(2, 3, 11, 4, 3, 1, 0, 1, 1),
                                                             (2, 4, 12, 4, 5, 2, 2, 1, 2),
                                                             (1, 2, 10, 3, 4, 1, "same", 2, 1)]:
        x = rand(n, c, l).requires_grad_()
        wt = rand(o, c // groups, k).requires_grad_()
        b = rand(o).requires_grad_()
        y = F.conv1d(x, wt, b, stride=stride, padding=padding, dilation=dilation, groups=groups)
        up = rand(*y.shape)
        extra = {"x_shape": [n, c, l], "x": t(x), "weight_shape": list(wt.shape), "weight": t(wt),
                 "bias": t(b), "filters": o, "kernel": [k], "stride": stride, "padding": padding,
                 "dilation": dilation, "groups": groups}
        cases.append(grads("conv1d", y, up, {"x": x, "weight": wt, "bias": b}, extra))
    pools = [  # (layer, x shape, kernel, stride, padding)
        ("max_pool2d", [2, 3, 7, 6], 2, 2, 0),
        ("max_pool2d", [1, 2, 7, 7], 3, 2, 1),
        ("avg_pool2d", [2, 3, 7, 6], 2, 2, 0),
        ("avg_pool2d", [1, 2, 7, 7], 3, 2, 1),
        ("max_pool1d", [2, 3, 9], 3, 2, 1),
        ("avg_pool1d", [2, 3, 9], 2, 2, 0),
    ]
    for (name, shape, k, stride, pad) in pools:
        # distinct values, so the max of every window is unique
        x = (torch.randperm(math.prod(shape)).to(torch.float64) / 10.0 - 2.0).reshape(shape).requires_grad_()
        f = {"max_pool2d": F.max_pool2d, "avg_pool2d": F.avg_pool2d,
             "max_pool1d": F.max_pool1d, "avg_pool1d": F.avg_pool1d}[name]
        y = f(x, k, stride, pad)
        up = rand(*y.shape)
        cases.append(grads(name, y, up, {"x": x}, {"x_shape": shape, "x": t(x), "kernel": k,
                                                  "stride": stride, "padding": pad}))
    for name in ["global_avg_pool", "global_max_pool"]:
        shape = [2, 3, 4, 5]
        x = (torch.randperm(math.prod(shape)).to(torch.float64) / 10.0 - 2.0).reshape(shape).requires_grad_()
        y = x.mean(dim=(2, 3)) if name == "global_avg_pool" else x.amax(dim=(2, 3))
        up = rand(*y.shape)
        cases.append(grads(name, y, up, {"x": x}, {"x_shape": shape, "x": t(x)}))
    for (name, shape) in [("batch_norm2d", [4, 3, 3, 2]), ("batch_norm1d", [6, 4]), ("batch_norm1d", [3, 2, 5])]:
        c = shape[1]
        bn = (torch.nn.BatchNorm2d if name == "batch_norm2d" else torch.nn.BatchNorm1d)(c, momentum=0.1, eps=1e-5)
        with torch.no_grad():
            bn.weight.copy_(rand(c, lo=0.5, hi=1.5))
            bn.bias.copy_(rand(c))
        x = rand(*shape, lo=-2.0, hi=2.0).requires_grad_()
        bn.train()
        y = bn(x)
        up = rand(*y.shape)
        extra = {"x_shape": shape, "x": t(x), "gamma": t(bn.weight), "beta": t(bn.bias)}
        case = grads(name, y, up, {"x": x}, extra)
        case["dgamma"], case["dbeta"] = t(bn.weight.grad), t(bn.bias.grad)
        case["running_mean"], case["running_var"] = t(bn.running_mean), t(bn.running_var)
        bn.eval()
        case["y_eval"] = t(bn(x))
        cases.append(case)
    write("conv.json", {"cases": cases})


def metrics():
    """Classification and regression metrics from scikit-learn (strata-train's metrics).

    Scores and values are rounded to f32 first so the Rust side reads exactly the same
    inputs; the metrics themselves are exact ratios computed in f64."""
    from sklearn import metrics as skm
    g = torch.Generator().manual_seed(7)
    n, classes = 200, 4
    labels = torch.randint(0, classes, (n,), generator=g)
    # Scores that favour the right class often enough to give a non-trivial matrix.
    scores = torch.rand(n, classes, generator=g) + 0.6 * F.one_hot(labels, classes)
    scores = scores.float().double()
    pred = scores.argmax(dim=1).numpy()
    y = labels.numpy()
    kw = {"labels": list(range(classes)), "zero_division": 0}
    classification = {
        "classes": classes, "scores": t(scores), "labels": t(labels.double()),
        "accuracy": float(skm.accuracy_score(y, pred)),
        "top2_accuracy": float(skm.top_k_accuracy_score(y, scores.numpy(), k=2, labels=list(range(classes)))),
        "precision_macro": float(skm.precision_score(y, pred, average="macro", **kw)),
        "recall_macro": float(skm.recall_score(y, pred, average="macro", **kw)),
        "f1_macro": float(skm.f1_score(y, pred, average="macro", **kw)),
        "precision": skm.precision_score(y, pred, average=None, **kw).tolist(),
        "recall": skm.recall_score(y, pred, average=None, **kw).tolist(),
        "f1": skm.f1_score(y, pred, average=None, **kw).tolist(),
        "confusion": skm.confusion_matrix(y, pred, labels=list(range(classes))).tolist(),
    }
    target = (torch.randn(60, generator=g) * 2.0 + 1.0).float().double()
    prediction = (target + 0.5 * torch.randn(60, generator=g)).float().double()
    yt, yp = target.numpy(), prediction.numpy()
    regression = {
        "prediction": t(prediction), "target": t(target),
        "mse": float(skm.mean_squared_error(yt, yp)),
        "rmse": float(math.sqrt(skm.mean_squared_error(yt, yp))),
        "mae": float(skm.mean_absolute_error(yt, yp)),
        "r2": float(skm.r2_score(yt, yp)),
    }
    import sklearn
    write("metrics.json", {"sklearn": sklearn.__version__, "classification": classification,
                           "regression": regression})


def pool_options():
    """Pooling with ceil_mode and count_include_pad=False: outputs and input gradients."""
    torch.manual_seed(11)
    cases = []
    pools = [  # (layer, x shape, kernel, stride, padding, ceil_mode, count_include_pad)
        ("max_pool2d", [2, 2, 7, 6], 2, 2, 0, True, True),
        ("max_pool2d", [1, 3, 8, 7], 3, 2, 1, True, True),
        ("avg_pool2d", [2, 2, 7, 6], 2, 2, 0, True, True),
        ("avg_pool2d", [1, 3, 8, 7], 3, 2, 1, True, True),
        ("avg_pool2d", [1, 3, 8, 7], 3, 2, 1, True, False),
        ("avg_pool2d", [2, 2, 7, 7], 3, 2, 1, False, False),
        ("max_pool1d", [2, 3, 10], 3, 2, 1, True, True),
        ("avg_pool1d", [2, 3, 10], 3, 2, 1, True, False),
        ("avg_pool1d", [2, 3, 9], 2, 2, 0, True, True),
    ]
    for (name, shape, k, stride, pad, ceil, count_pad) in pools:
        x = (torch.randperm(math.prod(shape)).to(torch.float64) / 10.0 - 2.0).reshape(shape).requires_grad_()
        if name.startswith("max"):
            f = {"max_pool2d": F.max_pool2d, "max_pool1d": F.max_pool1d}[name]
            y = f(x, k, stride, pad, ceil_mode=ceil)
        else:
            f = {"avg_pool2d": F.avg_pool2d, "avg_pool1d": F.avg_pool1d}[name]
            y = f(x, k, stride, pad, ceil_mode=ceil, count_include_pad=count_pad)
        up = rand(*y.shape)
        (y * up).sum().backward()
        cases.append({"layer": name, "x_shape": shape, "x": t(x), "kernel": k, "stride": stride,
                      "padding": pad, "ceil_mode": ceil, "count_include_pad": count_pad,
                      "y_shape": list(y.shape), "y": t(y), "upstream": t(up), "dx": t(x.grad)})
    write("pool_options.json", {"cases": cases})


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    dense(); activations(); losses(); optimizers(); schedules(); mlp(); recurrent(); audio_mfcc(); conv(); metrics()
    pool_options()
    sys.exit(0)
