"""A build in Qdrant (``--store qdrant``): the collections of ``remote``,
with named vectors ``dense`` (inner product) and ``bm25`` (sparse), and
the rest as payload.

An empty URI is Qdrant's local mode, stored in the build directory: a
Python implementation of Qdrant's API for tests and one process (its
folder is locked while open). ``http://host:6333`` is a Qdrant server or
cluster, with ``ASKDOC_STORE_API_KEY`` as its key when it asks for one.
"""

from __future__ import annotations


import numpy as np

from index.engines.collection import ChunkRows, CollectionEngine, SentenceRows, query_terms

DENSE, SPARSE = "dense", "bm25"


class QdrantEngine(CollectionEngine):
    kind = "qdrant"
    local_name = "qdrant"

    label = "Qdrant"
    server_example = "http://HOST:6333"

    def _server_client(self, place: str, api_key: str | None):
        from qdrant_client import QdrantClient

        return QdrantClient(url=place, api_key=api_key, timeout=30, check_compatibility=False)

    def _embedded_client(self, place: str):
        from qdrant_client import QdrantClient

        return QdrantClient(path=place)

    def _exists(self, client, name: str) -> bool:
        return client.collection_exists(name)

    def _drop(self, client, name: str) -> None:
        client.delete_collection(name)

    def _count(self, client, name: str) -> int | None:
        return client.count(name, exact=True).count if client.collection_exists(name) else None

    def _vectors(self, client, name: str, ids: list[int]) -> dict[int, list[float]]:
        points = client.retrieve(name, ids=ids, with_vectors=[DENSE], with_payload=False)
        return {int(p.id): p.vector[DENSE] for p in points}

    def _create(self, client) -> None:
        from qdrant_client import models

        for name, sparse in ((self.record.chunks, True), (self.record.sentences, False)):
            client.create_collection(
                name, vectors_config={DENSE: models.VectorParams(size=self.dimension, distance=models.Distance.DOT)},
                sparse_vectors_config={SPARSE: models.SparseVectorParams()} if sparse else None,
            )
            if self.record.uri:  # filtered searches on a server use a payload index (local mode has none)
                client.create_payload_index(name, "doc", models.PayloadSchemaType.INTEGER)

    def _put_chunks(self, client, batch: ChunkRows) -> None:
        from qdrant_client import models

        points = []
        for i, row in enumerate(batch.rows.tolist()):
            vector = {DENSE: batch.dense[i].tolist()}
            terms, weights = batch.sparse[i]
            if terms:
                vector[SPARSE] = models.SparseVector(indices=terms, values=weights)
            points.append(models.PointStruct(id=row, vector=vector, payload={
                "doc": int(batch.doc[i]), "first": int(batch.first[i]), "last": int(batch.last[i])}))
        client.upsert(self.record.chunks, points=points, wait=True)

    def _put_sentences(self, client, batch: SentenceRows) -> None:
        from qdrant_client import models

        points = [models.PointStruct(id=row, vector={DENSE: batch.dense[i].tolist()}, payload={
            "doc": int(batch.doc[i]), "start": int(batch.start[i]), "end": int(batch.end[i]), "text": batch.text[i]})
            for i, row in enumerate(batch.rows.tolist())]
        client.upsert(self.record.sentences, points=points, wait=True)

    @staticmethod
    def _filter(within):
        if within is None:
            return None
        from qdrant_client import models

        return models.Filter(must=[models.FieldCondition(key="doc", match=models.MatchAny(any=within.docs.tolist()))])

    def nearest_chunks(self, vector: np.ndarray, k: int, within=None) -> np.ndarray:
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        client = self.client
        with self.reaching():
            found = client.query_points(self.record.chunks, query=np.asarray(vector, dtype=np.float32).tolist(),
                                        using=DENSE, limit=k, query_filter=self._filter(within), with_payload=False)
        return np.array([int(p.id) for p in found.points], dtype=np.int64)

    def lexical_chunks(self, tokens: list[str], k: int, within=None) -> np.ndarray:
        from qdrant_client import models

        terms, counts = query_terms(self.chunk_lexical, tokens)
        if not terms or k <= 0:
            return np.zeros(0, dtype=np.int64)
        client = self.client
        with self.reaching():
            found = client.query_points(self.record.chunks, query=models.SparseVector(indices=terms, values=counts),
                                        using=SPARSE, limit=k, query_filter=self._filter(within), with_payload=False)
        return np.array([int(p.id) for p in found.points if p.score > 0], dtype=np.int64)
