"""Shared by the attribution tests: our Markov model (the dbt Python model's own file) and the
ChannelAttribution package (PyPI) as the reference implementation."""

import contextlib
import importlib.util
import io

import pandas as pd

from touchline.settings import DBT_PROJECT_DIR

_spec = importlib.util.spec_from_file_location("mart_attribution_markov", DBT_PROJECT_DIR / "models/marts/mart_attribution_markov.py")
markov = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(markov)


def reference(paths: list[tuple[list[str], int, int]], seed: int = 7, max_step: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ChannelAttribution's heuristic models and Markov model (total_conversions, removal_effect)
    per channel, for paths given as (channels, conversions, non-conversions)."""
    import ChannelAttribution as ca

    frame = pd.DataFrame({"path": [" > ".join(c) for c, _, _ in paths],
                          "conv": [float(c) for _, c, _ in paths], "null": [float(n) for _, _, n in paths]})
    with contextlib.redirect_stdout(io.StringIO()):  # it prints banners
        heuristic = ca.heuristic_models(frame[frame.conv > 0], "path", "conv", flg_pro=False)
        result = ca.markov_model(frame, "path", "conv", var_null="null", out_more=True, seed=seed,
                                 nsim_start=1e6, max_step=max_step, verbose=False, flg_pro=False)
    chain = result["result"].merge(result["removal_effects"], on="channel_name")
    return heuristic.set_index("channel_name"), chain.set_index("channel_name")
