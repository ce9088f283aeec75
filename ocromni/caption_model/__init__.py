"""The image-type classifier behind ``caption``: features, model, synthetic data, training.

    python -m ocromni.caption_model.train     # rebuilds ocromni/weights/caption/classifier.json
"""
