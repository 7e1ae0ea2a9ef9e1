"""The course's catalogues, each checked by the tests in a real kernel: common mistakes
(:mod:`.mistakes`, each must lose points), correct answers written otherwise (:mod:`.variants`,
each must pass every test), shortcuts that take an answer from elsewhere (:mod:`.shortcuts`,
each must earn nothing) and tampering with the grading (:mod:`.tampering`, each must earn
nothing and be flagged). :mod:`.catalogue` is what they share."""
