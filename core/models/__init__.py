"""Model definitions that training, scoring and explanation all load (beneath them in the layers).

- `catalog`: the base-model catalog and resolution (bundled MiniLM, local folders, Hub ids);
- `pooled`: the classifier heads (the encoder's own first-token head, or mean pooling);
- `embedding`: SentenceTransformer loading, embeddings, and the linear head fitted on them;
- `logistic`: class-balanced logistic regression as weight arrays, and the sigmoid/softmax link;
- `tfidf`: the TF-IDF + logistic regression model, saved without pickle.
"""
