"""Speech embedding spaces: Speech2Vec (the paper's) and the unit-skipgram learner, with training and metrics."""
