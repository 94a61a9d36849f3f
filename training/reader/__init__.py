"""The reader: a cross-encoder trained here from the bundled MiniLM weights
that reads a question with one candidate sentence and its neighbours and
says whether the sentence answers and which of its words do.

``data`` reads the public training sets from paths given on the command
line; ``examples`` turns them into question-sentence pairs with near-miss
negatives; ``model`` is the network; ``train`` trains it (``python -m
training.reader.train --help``); ``export`` writes the ONNX graph and its
model card."""
