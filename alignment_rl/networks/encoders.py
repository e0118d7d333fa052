"""Encoders over int32 token sequences (0 = PAD), returning one vector per sequence.

* `BagOfTokensEncoder`: mean of token embeddings over non-PAD positions, then an
  MLP. Order-blind; the cheap baseline. Computed as token counts times the
  embedding table (`token_counts`), so neither pass gathers or scatters rows.
* `ConvEncoder`: one causal 1-D convolution over the one-hot tokens (computed as
  embedding lookups, one per tap), masked mean and max pooling, then an MLP.
  Order-aware; a response policy with it costs about 1.5x the bag of tokens on CPU.
* `CausalTransformerEncoder`: a small pre-LayerNorm decoder-only transformer
  (Vaswani et al. 2017; Radford et al. 2019) with learned positions and causal
  self-attention; the sequence is summarised by the hidden state at its last
  non-PAD position, as in a language model reading the context.
"""

from __future__ import annotations

import functools

import flax.linen as nn
import jax.numpy as jnp
import numpy as np

from alignment_rl.networks.length_buckets import bucketed_rows


def last_token_index(tokens: jnp.ndarray) -> jnp.ndarray:
  """Index of the last non-PAD token (0 if none); PADs may also occur inside.

  tokens: int32[..., L] -> int32[...].
  """
  length = tokens.shape[-1]
  from_end = jnp.argmax(jnp.flip(tokens != 0, axis=-1), axis=-1)
  return jnp.where(jnp.any(tokens != 0, axis=-1), length - 1 - from_end, 0)


def _mean_pool(emb: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
  return jnp.sum(emb * mask, axis=-2) / jnp.maximum(jnp.sum(mask, axis=-2), 1.0)


def token_counts(tokens: jnp.ndarray, vocab_size: int) -> jnp.ndarray:
  """How often each vocabulary entry occurs; PAD (0) is not counted.

  tokens: int32[N, L] -> float32[N, V]. One scalar scatter-add per token (no
  gradient flows through it: the counts are data).
  """
  n = tokens.shape[0]
  rows = jnp.broadcast_to(jnp.arange(n)[:, None], tokens.shape)
  counts = jnp.zeros((n, vocab_size), jnp.float32).at[rows, tokens].add(1.0)
  return counts.at[:, 0].set(0.0)


class BagOfTokensEncoder(nn.Module):
  """tokens: int32[..., L] -> float32[..., features]; PAD (0) tokens are ignored.

  The mean of the token embeddings, concatenated (if `system_len` > 0) with the mean
  over the first `system_len` positions alone: a segment feature, so that the few
  tokens of a system prompt (a persona) are not diluted by a long conversation.
  """

  vocab_size: int
  embed_dim: int = 64
  features: int = 128
  system_len: int = 0

  @nn.compact
  def __call__(self, tokens: jnp.ndarray) -> jnp.ndarray:
    batch_shape, length = tokens.shape[:-1], tokens.shape[-1]
    tokens = tokens.reshape((-1, length))
    embed = nn.Embed(self.vocab_size, self.embed_dim, name="embed")
    # mean_t E[x_t] = (c / |c|) E with c the token counts: a [N, V] x [V, D] matmul in
    # both passes instead of a gather of N*L rows and its scatter-add gradient (about
    # 6x faster on CPU at the main job's shapes; `benchmarks/RESULTS.md`).
    counts = token_counts(tokens, self.vocab_size)
    mean = counts / jnp.maximum(jnp.sum(counts, axis=-1, keepdims=True), 1.0)
    pooled = [mean @ embed.embedding]
    if self.system_len > 0:  # A few positions: a plain lookup is cheaper than counts.
      head = tokens[:, : self.system_len]
      mask = (head != 0).astype(jnp.float32)[..., None]
      pooled.append(_mean_pool(embed(head), mask))
    pooled = jnp.concatenate(pooled, axis=-1)
    h = nn.relu(nn.Dense(self.features, name="dense_0")(pooled))
    h = nn.relu(nn.Dense(self.features, name="dense_1")(h))
    return h.reshape(batch_shape + (self.features,))


class ConvEncoder(nn.Module):
  """tokens: int32[..., L] -> float32[..., features]; order-aware, PAD (0) ignored.

  One causal 1-D convolution over the one-hot tokens, with taps at the offsets
  `taps` (by default 0, 1, 2, 4 and 8 tokens back: a trigram and two longer
  reaches, a receptive field of 9 tokens), then max-over-time and mean pooling
  (the one-layer text CNN of Kim 2014) and a 2-layer ReLU MLP:

    h_t = relu(b + sum_j E_j[x_{t - taps_j}])       (x_s = PAD, adding nothing, for s < 0)
    out = MLP([mean_t h_t, max_t h_t (, mean_{t < system_len} h_t)])

  Each unit of h_t is a learned detector of tokens at given distances before t (a
  phrase, an option said after "says" in the notes rather than in a claim, a turn
  marker ahead of a cue, ...). A convolution over one-hot inputs is a sum of
  embedding lookups, one table per tap, so it costs `len(taps)` lookups of the bag
  of tokens' size and no matmul per position. The optional `system_len` segment
  (BOS and the persona slot) is pooled alone as in `BagOfTokensEncoder`; being
  causal, its features see only that segment. The mean and max run over the non-PAD
  positions only; the convolution is causal, so padding after the end changes
  nothing and there is no maximum length.
  """

  vocab_size: int
  embed_dim: int = 64
  features: int = 128
  system_len: int = 0
  # More than 5 taps cost disproportionately more on XLA:CPU (fusion), measured.
  taps: tuple[int, ...] = (0, 1, 2, 4, 8)
  # > 0: encode the rows in this many length buckets, each cut to the shortest length
  # that holds its rows (`length_buckets.bucketed_rows`; the same output up to float
  # order). Only where no `vmap` wraps the encoder (seeds in turn): under `vmap` every
  # bucket computes every length.
  length_buckets: int = 0
  # Only for batches of at least this many rows: each bucket compiles one branch per
  # ladder length, a fixed cost that small batches (tests, probes) never win back.
  bucket_min_rows: int = 256

  @nn.compact
  def __call__(self, tokens: jnp.ndarray) -> jnp.ndarray:
    batch_shape, length = tokens.shape[:-1], tokens.shape[-1]
    tokens = tokens.reshape((-1, length))
    if not self.taps or self.taps[0] != 0:
      raise ValueError(f"ConvEncoder.taps={self.taps}; the first tap must be 0 (the token itself)")
    init = nn.initializers.normal(1.0 / np.sqrt(len(self.taps)))
    bias = self.param("bias", nn.initializers.zeros, (self.embed_dim,))
    tables = []
    for j, tap in enumerate(self.taps):
      emb = nn.Embed(self.vocab_size, self.embed_dim, embedding_init=init, name=f"tap_{tap}")
      # PAD's row is zero (it adds nothing), and the bias rides on the first tap's rows
      # (every non-PAD position has one): no [N, L, D] mask or bias terms, whose
      # gradients (a broadcast mask, a reduction over N*L) cost more than the lookups.
      table = emb.embedding + bias if j == 0 else emb.embedding
      tables.append(table.at[0].set(0.0))
    pool = functools.partial(conv_pool, taps=self.taps, system_len=self.system_len)
    if self.length_buckets > 0 and tokens.shape[0] >= self.bucket_min_rows:
      pooled = bucketed_rows(pool, tables, tokens, self.length_buckets)
    else:
      pooled = pool(tables, tokens)
    h = nn.relu(nn.Dense(self.features, name="dense_0")(pooled))
    h = nn.relu(nn.Dense(self.features, name="dense_1")(h))
    return h.reshape(batch_shape + (self.features,))


def conv_pool(tables, tokens: jnp.ndarray, taps: tuple[int, ...], system_len: int) -> jnp.ndarray:
  """`ConvEncoder`'s convolution and pooling: [mean_t h_t, max_t h_t (, segment mean)].

  tables: one float32[V, D] per tap (PAD's row zero, the bias in the first);
  tokens: int32[N, L] -> float32[N, 2D] (3D with `system_len` > 0).
  """
  length = tokens.shape[-1]
  mask = (tokens != 0).astype(jnp.float32)[..., None]
  h = None
  for table, tap in zip(tables, taps, strict=True):
    ids = jnp.pad(tokens, ((0, 0), (tap, 0)))[:, :length]  # x_{t - tap}
    rows = table.at[ids].get(mode="promise_in_bounds")
    h = rows if h is None else h + rows
  h = jnp.where(mask > 0, nn.relu(h), 0.0)
  count = jnp.maximum(jnp.sum(mask, axis=-2), 1.0)  # [N, 1]
  pooled = [jnp.sum(h, axis=-2) / count, jnp.max(h, axis=-2)]  # h >= 0, and 0 at PAD
  if system_len > 0:
    # A [L] position weight, not a slice h[:, :s]: slicing gave h a consumer that
    # XLA:CPU could not fuse with the lookups, so every lookup was written out and
    # read back (the encoder's forward pass 6x slower; `benchmarks/RESULTS.md`).
    seg = (jnp.arange(length) < system_len).astype(jnp.float32)[:, None]
    count_s = jnp.maximum(jnp.sum(mask * seg, axis=-2), 1.0)
    pooled.append(jnp.sum(h * seg, axis=-2) / count_s)
  return jnp.concatenate(pooled, -1)


class TransformerBlock(nn.Module):
  """Pre-LN block: x + MHA(LN(x)) then x + MLP(LN(x)). x: float32[B, L, D]."""

  num_heads: int
  mlp_ratio: int = 4

  @nn.compact
  def __call__(self, x: jnp.ndarray, mask: jnp.ndarray) -> jnp.ndarray:
    d = x.shape[-1]
    h = nn.LayerNorm(name="ln_attn")(x)
    h = nn.MultiHeadDotProductAttention(num_heads=self.num_heads, qkv_features=d, name="attn")(
      h, h, mask=mask
    )
    x = x + h
    h = nn.LayerNorm(name="ln_mlp")(x)
    h = nn.Dense(d * self.mlp_ratio, name="mlp_in")(h)
    h = nn.Dense(d, name="mlp_out")(nn.gelu(h))
    return x + h


class CausalTransformerEncoder(nn.Module):
  """tokens: int32[..., L] -> float32[..., d_model] at the last non-PAD position."""

  vocab_size: int
  max_len: int = 128
  d_model: int = 64
  num_heads: int = 4
  num_layers: int = 2

  @nn.compact
  def __call__(self, tokens: jnp.ndarray) -> jnp.ndarray:
    batch_shape, length = tokens.shape[:-1], tokens.shape[-1]
    if length > self.max_len:
      raise ValueError(
        f"CausalTransformerEncoder.max_len={self.max_len} < sequence length {length}"
      )
    tokens = tokens.reshape((-1, length))
    x = nn.Embed(self.vocab_size, self.d_model, name="embed")(tokens)
    pos = self.param("pos_embed", nn.initializers.normal(0.02), (self.max_len, self.d_model))
    x = x + pos[:length]
    pad = tokens != 0
    causal = nn.make_causal_mask(tokens)  # [B, 1, L, L]
    mask = nn.combine_masks(causal, nn.make_attention_mask(pad, pad))
    # A fully padded query row would softmax over nothing; let it see itself.
    mask = jnp.logical_or(mask, jnp.eye(length, dtype=bool)[None, None])
    for i in range(self.num_layers):
      x = TransformerBlock(self.num_heads, name=f"block_{i}")(x, mask)
    x = nn.LayerNorm(name="ln_final")(x)
    idx = last_token_index(tokens)
    out = jnp.take_along_axis(x, idx[:, None, None], axis=1)[:, 0]
    return out.reshape(batch_shape + (self.d_model,))
