"""Build machinery: steps and stamps, batch, the papermill runner, kernels, publishing, HTML export, PDF."""
