"""Self-supervised front ends trained on the user's own untranscribed audio (issue 18, Deliver 3).

`core.selfsup.train.train_frontend` trains a small HuBERT-style model (torchaudio's own
`hubert_pretrain_model`, iteration 1: masked prediction of k-means units of MFCC frames) and
writes its `Wav2Vec2Model` part with `core.frontends.ssl_checkpoint.save_ssl_checkpoint`, so the
result is an ordinary `ssl:PATH` front end. The command line: `main.py train-frontend`.
"""
