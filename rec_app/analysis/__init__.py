"""The analysis pages' (Attention, Embeddings, Error analysis) logic on top of rec_core.analysis:
its tables in the page's language (`tables`) and the Error analysis page's choices about users
(`users`)."""
