"""Networks written elsewhere, read into a Model; torch itself is imported only when one is read.

    torch_graph.py     a module's forward through torch.export: ATen ops into layers, exact weights, refusals
    torch_training.py  the loss module, the targets and the optimizer's param_groups as a file states them
    torch_scheduler.py the optimizer's lr_scheduler (StepLR ... LinearLR) as a [scheduler] table, checked fresh
    torch_module.py    from_torch(): the Model, with notes saying where every name and number came from
    program.py         ``package.module:function`` imported as uvicorn does (the current directory first)
"""
