"""Label review: rank likely label errors (`label_issues`), record decisions and apply them (`decisions`)."""
