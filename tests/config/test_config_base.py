"""Every model of the configuration shares one base: unknown keys refused, values frozen."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from pydantic import BaseModel

import crossdock.config
from crossdock.config.base import ConfigModel


def test_every_configuration_model_derives_from_the_one_base() -> None:
    models = {}
    for info in pkgutil.iter_modules(crossdock.config.__path__, "crossdock.config."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, BaseModel) and value.__module__ == info.name:
                models[value.__qualname__] = value
    assert len(models) > 20
    assert sorted(n for n, m in models.items() if not issubclass(m, ConfigModel)) == []
    assert ConfigModel.model_config["extra"] == "forbid" and ConfigModel.model_config["frozen"]
