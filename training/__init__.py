"""Model training for askdoc: code that runs on a developer's machine (or a
GPU) to make a model the repository ships; askdoc never imports it, and
neither CI nor the tests train."""
