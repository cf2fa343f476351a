"""The control plane: API server, scheduler, controllers, kubelets, proxy."""
