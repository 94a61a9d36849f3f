"""A build in Milvus (``--store milvus``): the collections of ``remote``,
each with a dense vector field (exact search, inner product), the chunks'
with a sparse ``bm25`` field (an inverted index, inner product) too, and
the rest as scalar fields.

An empty URI is Milvus Lite, stored in the build directory: the engine's
own core (the ``milvus`` binary and its knowhere library from the
``milvus-lite`` wheel) in a process beside askdoc's, one process per file.
``http://host:19530`` is a Milvus server or cluster, with
``ASKDOC_STORE_API_KEY`` as its token when it asks for one. Collections
are read with strong consistency: a search after a build sees all of it.
"""

from __future__ import annotations

import warnings

import numpy as np

from index.engines.collection import ChunkRows, CollectionEngine, SentenceRows, query_terms

DENSE, SPARSE = "dense", "bm25"
TEXT_BYTES = 65_535  # Milvus's longest VARCHAR; a longer sentence keeps its offsets and the start of its text


class MilvusEngine(CollectionEngine):
    kind = "milvus"
    local_name = "milvus.db"

    label = "Milvus"
    server_example = "http://HOST:19530"

    def _server_client(self, place: str, api_key: str | None):
        from pymilvus import MilvusClient

        return MilvusClient(uri=place, token=api_key or "", timeout=30)

    def _embedded_client(self, place: str):
        from pymilvus import MilvusClient

        with warnings.catch_warnings():  # milvus-lite imports pkg_resources, which warns on import
            warnings.simplefilter("ignore", UserWarning)
            return MilvusClient(uri=place)

    @staticmethod
    def _close(client, place: str, local: bool) -> None:
        client.close()
        if local:  # Milvus Lite's engine process ends too
            from milvus_lite.server_manager import server_manager_instance

            server_manager_instance.release_server(place)

    def _exists(self, client, name: str) -> bool:
        return client.has_collection(name)

    def _drop(self, client, name: str) -> None:
        client.drop_collection(name)

    def _count(self, client, name: str) -> int | None:
        if not client.has_collection(name):
            return None
        return int(client.query(name, filter="", output_fields=["count(*)"])[0]["count(*)"])

    def _vectors(self, client, name: str, ids: list[int]) -> dict[int, list[float]]:
        return {int(row["id"]): row[DENSE] for row in client.get(name, ids=ids, output_fields=[DENSE])}

    def _create(self, client) -> None:
        from pymilvus import DataType

        for name, is_chunks in ((self.record.chunks, True), (self.record.sentences, False)):
            schema = client.create_schema(auto_id=False, enable_dynamic_field=False)
            schema.add_field("id", DataType.INT64, is_primary=True)
            schema.add_field("doc", DataType.INT64)
            schema.add_field(DENSE, DataType.FLOAT_VECTOR, dim=self.dimension)
            indexes = client.prepare_index_params()
            indexes.add_index(DENSE, index_type="FLAT", metric_type="IP")
            if is_chunks:
                schema.add_field(SPARSE, DataType.SPARSE_FLOAT_VECTOR)
                schema.add_field("first", DataType.INT64)
                schema.add_field("last", DataType.INT64)
                indexes.add_index(SPARSE, index_type="SPARSE_INVERTED_INDEX", metric_type="IP")
            else:
                schema.add_field("start", DataType.INT64)
                schema.add_field("end", DataType.INT64)
                schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES)
            if self.record.uri:  # scoped searches on a server filter through an index (a scan costs Lite less)
                indexes.add_index("doc", index_type="INVERTED")
            client.create_collection(name, schema=schema, index_params=indexes, consistency_level="Strong")

    def _put_chunks(self, client, batch: ChunkRows) -> None:
        client.insert(self.record.chunks, [
            {"id": row, "doc": int(batch.doc[i]), DENSE: batch.dense[i].tolist(),
             SPARSE: dict(zip(*batch.sparse[i])), "first": int(batch.first[i]), "last": int(batch.last[i])}
            for i, row in enumerate(batch.rows.tolist())])

    def _put_sentences(self, client, batch: SentenceRows) -> None:
        client.insert(self.record.sentences, [
            {"id": row, "doc": int(batch.doc[i]), DENSE: batch.dense[i].tolist(), "start": int(batch.start[i]),
             "end": int(batch.end[i]), "text": _fit(batch.text[i])}
            for i, row in enumerate(batch.rows.tolist())])

    def _finish(self, client) -> None:
        for name in (self.record.chunks, self.record.sentences):
            client.flush(name)  # sealed segments on disk, not rows in the engine's memory

    @staticmethod
    def _filter(within) -> str:
        return "" if within is None else f"doc in {within.docs.tolist()}"

    def _search(self, data, field: str, k: int, within) -> list[dict]:
        client = self.client
        with self.reaching():
            return client.search(self.record.chunks, data=[data], anns_field=field, limit=k,
                                 filter=self._filter(within), search_params={"metric_type": "IP"})[0]

    def nearest_chunks(self, vector: np.ndarray, k: int, within=None) -> np.ndarray:
        if k <= 0:
            return np.zeros(0, dtype=np.int64)
        found = self._search(np.asarray(vector, dtype=np.float32).tolist(), DENSE, k, within)
        return np.array([int(hit["id"]) for hit in found], dtype=np.int64)

    def lexical_chunks(self, tokens: list[str], k: int, within=None) -> np.ndarray:
        terms, counts = query_terms(self.chunk_lexical, tokens)
        if not terms or k <= 0:
            return np.zeros(0, dtype=np.int64)
        found = self._search(dict(zip(terms, counts)), SPARSE, k, within)
        return np.array([int(hit["id"]) for hit in found if hit["distance"] > 0], dtype=np.int64)


def _fit(text: str, limit: int = TEXT_BYTES) -> str:
    """``text`` cut to at most ``limit`` UTF-8 bytes, never inside a character.

    >>> _fit("naïve", 3)
    'na'
    """
    data = text.encode("utf-8")
    return text if len(data) <= limit else data[:limit].decode("utf-8", errors="ignore")
