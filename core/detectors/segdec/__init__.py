"""Mixed supervision (after Božić, Tabernik and Skočaj 2021): a defect map and an image score from one
network, learned from image labels and from masks where a person drew them."""
