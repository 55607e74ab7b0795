"""Held-out segments placed by the joined types' mean centroids (what the runner stores) against by their
k-means cluster's joined type (what the run-folder scripts do): type measures of both (issue 18, session 21;
SYNTHETIC; labels only score). Input: the GPU groups pack and context_join.py --save's types.

    PYTHONPATH=. .venv/bin/python $R/placement_check.py
"""
import sys, numpy as np
sys.path.insert(0, "scripts")
from b_pack import load_pack, type_measures
P = load_pack("/tmp/s20/gpupack_groups"); types = np.load("/tmp/s21/types_gpu_1000.npy")
n = int(types.max()) + 1
tr = P.train[types[P.train] >= 0]
c = np.zeros((n, P.emb.shape[1])); np.add.at(c, types[tr], P.emb[tr]); c /= np.linalg.norm(c, axis=1, keepdims=True)
alt = types.copy(); alt[P.held] = (P.emb[P.held] @ c.T).argmax(1)
print("k-means map", type_measures(P, types)); print("joined means", type_measures(P, alt))
print("agreement on held-out", np.mean(alt[P.held] == types[P.held]))
