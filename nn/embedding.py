"""Embedding: a learned table of vectors looked up by integer index."""

import autograd as ag

from . import init
from .module import Module, Parameter


class Embedding(Module):
    """weight (num_embeddings, embedding_dim), drawn from N(0, 1) as in PyTorch; the row at
    `padding_idx`, if given, starts at zero and gets no gradient. Calling it with integer
    indices of any shape returns their rows, shape indices.shape + (embedding_dim,)."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, *, dtype=None,
                 backend=None):
        super().__init__()
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx must be in [-{num_embeddings}, "
                                 f"{num_embeddings - 1}], got {padding_idx}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(ag.zeros(num_embeddings, embedding_dim, dtype=dtype,
                                         backend=backend))
        init.normal_(self.weight)
        if padding_idx is not None:
            rows = ag.arange(num_embeddings, backend=self.weight.backend).unsqueeze(1)
            with ag.no_grad():
                self.weight *= (rows != padding_idx).astype(self.weight.dtype)

    def forward(self, indices):
        return ag.embedding(indices, self.weight, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else text + f", padding_idx={self.padding_idx}"
