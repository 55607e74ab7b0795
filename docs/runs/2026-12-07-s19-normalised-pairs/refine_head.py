"""Does training on the shared-space groups generalise? A CPU stand-in for the GPU pair round (issue 18,
session 19). SYNTHETIC speech; word labels only score.

A small residual MLP (64 → 512 → 64, starts as the identity) is trained on the fixed shared-space
embeddings with InfoNCE: each grouped training segment's positive is a random other member of its
make_groups.py group, the batch's other positives are its negatives. All segments (held-out voices
too) are then mapped and clustered as in shared_space_frontier.py: one k-means (K, 25 iterations,
seed 0) of the training segments, average linkage of the centroids cut at each --cut; held-out rows
take their nearest centroid's type. The same measures are printed for the input embeddings, so the
two sit side by side. --classify K:N as in shared_space_frontier.py.

    PYTHONPATH=. .venv/bin/python $R/refine_head.py PACK E.npy GROUPS.npz TEXT.vec --k 2000 --cut 1000 --json OUT.json
"""
import argparse, json, sys
import numpy as np, torch
sys.path.insert(0, "scripts")
from b_pack import agglomerate_centroids, load_pack, log, s13_tools, type_measures
from core.speech.clustering import kmeans, nearest_centroid
from core.vectors import load_vectors


class ResidualHead(torch.nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.inner, self.outer = torch.nn.Linear(dim, hidden), torch.nn.Linear(hidden, dim)
        torch.nn.init.zeros_(self.outer.weight); torch.nn.init.zeros_(self.outer.bias)   # identity at start

    def forward(self, x):
        return torch.nn.functional.normalize(x + self.outer(torch.relu(self.inner(x))), dim=1)


def train_head(E, group, steps, batch, temperature, seed):
    """The head trained to put each grouped row near a random other member of its group."""
    g = torch.Generator().manual_seed(seed); torch.manual_seed(seed)
    rows = np.flatnonzero(group >= 0)
    sorted_rows = rows[np.argsort(group[rows], kind="stable")]   # each group's members side by side
    gid = group[sorted_rows]
    start = np.searchsorted(gid, gid, "left"); size = np.searchsorted(gid, gid, "right") - start
    anchors = np.flatnonzero(size > 1)                           # positions in sorted_rows with a mate
    X = torch.from_numpy(E)
    head = ResidualHead(E.shape[1], 512); opt = torch.optim.Adam(head.parameters(), 1e-3)
    for step in range(steps):
        p = anchors[torch.randint(len(anchors), (batch,), generator=g).numpy()]
        offset = torch.randint(1 << 30, (batch,), generator=g).numpy() % (size[p] - 1) + 1
        anchor, mate = sorted_rows[p], sorted_rows[start[p] + (p - start[p] + offset) % size[p]]
        a, b = head(X[anchor]), head(X[mate])
        logits = a @ b.T / temperature; target = torch.arange(batch)
        loss = (torch.nn.functional.cross_entropy(logits, target) + torch.nn.functional.cross_entropy(logits.T, target)) / 2
        opt.zero_grad(); loss.backward(); opt.step()
        if step % 500 == 0 or step == steps - 1:
            log(f"head step {step}: loss {loss.item():.4f}")
    with torch.no_grad():
        return torch.cat([head(X[i:i + 65536]) for i in range(0, len(X), 65536)]).numpy()


def frontier(P, E, ks, cuts, want, text, tag):
    """Records (k-means K, average-linkage cuts) of embeddings E, classified where (K, N) is in want."""
    out = []
    for K in ks:
        cent, a = kmeans(E[P.train], K, 25, 0, "torch"); cent, a = np.asarray(cent), np.asarray(a)
        held = nearest_centroid(E[P.held], cent)
        joined = agglomerate_centroids(cent, [c for c in cuts if c < K])
        for n in [K, *joined]:
            group = np.arange(K) if n == K else joined[n]
            types = np.full(len(P.labels), -1, np.int64); types[P.train] = group[a]; types[P.held] = group[held]
            m = int(group.max()) + 1
            rec = {"embedding": tag, "k": K, "types": m, **type_measures(P, types)}
            if (K, n) in want:
                rec.update(s13_tools().classify(types, m, P.train, P.held, P.utt, P.speech_config, text, P.labels))
            log(rec); out.append(rec)
    return out


ap = argparse.ArgumentParser()
ap.add_argument("pack"); ap.add_argument("emb"); ap.add_argument("groups"); ap.add_argument("text")
ap.add_argument("--k", type=int, nargs="+", default=[2000])
ap.add_argument("--cut", type=int, nargs="+", default=[1000])
ap.add_argument("--classify", nargs="*", default=[])
ap.add_argument("--steps", type=int, default=3000)
ap.add_argument("--skip-input", action="store_true", help="measure only the refined embeddings")
ap.add_argument("--save", help="write the refined embeddings here (.npy, float16)")
ap.add_argument("--json")
args = ap.parse_args()
torch.set_num_threads(2)
P = load_pack(args.pack); text = load_vectors(args.text)
E = np.load(args.emb).astype(np.float32); E /= np.maximum(np.linalg.norm(E, axis=1, keepdims=True), 1e-8)
group = np.load(args.groups)["group"].astype(np.int64)
assert not (group[P.held] >= 0).any(), "held-out voices must not be grouped"
want = {tuple(map(int, s.split(":"))) for s in args.classify}
F = train_head(E, group, args.steps, 2048, 0.1, 0)
if args.save:
    np.save(args.save, F.astype(np.float16))
runs = [] if args.skip_input else frontier(P, E, args.k, args.cut, want, text, "input")
runs += frontier(P, F, args.k, args.cut, want, text, "refined")
if args.json:
    json.dump({"pack": args.pack, "emb": args.emb, "groups": args.groups, "steps": args.steps, "runs": runs},
              open(args.json, "w"), indent=2)
log("finished")
