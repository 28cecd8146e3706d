"""Synthetic soil probes: what a city's loggers would record in the truth world.

Each channel (a probe's sensor at one depth) reads the truth's layer at its depth: the
tension of the layers whose midpoints bracket the depth, interpolated linearly in
ln(tension) (a water-content probe: θ interpolated linearly). The error model, drawn once
per probe network (:func:`draw_probes`) and per reading (:meth:`ProbeModel.readings_of_day`):

**Tension** (granular-matrix sensor, Watermark 200SS type):

1. calibration bias, multiplicative in tension: ψ · exp(b), b ~ N(0, ``tension_bias_ln``²)
   per channel: each block has its own resistance-tension response and published
   calibration equations disagree by tens of percent (Spaans & Baker 1992, Plant Soil
   143, 213-217; Thompson, Gallardo, Agüera et al. 2006, Irrig. Sci. 24, 185-202);
2. poor response near saturation: the matrix stays saturated below ~10 kPa, so the
   reading is a smooth maximum ``(ψ³ + ψ0³)^(1/3)`` with a floor ψ0 uniform in
   ``wet_floor_kpa`` per channel (Irrometer: 0-10 kPa reads "saturated soil");
3. a diurnal temperature effect ±``diurnal_rel`` (peak at 14 h) and reading noise
   ``noise_rel`` · ψ + ``noise_kpa``;
4. integer kPa, between 0 and the logger's ceiling (``ceiling_kpa``, 239 kPa for the
   200SS): a drier soil reads the ceiling (pinned, a censored value), never beyond.

**Water content** (capacitance probe): a fixed offset per channel, N(0, ``vwc_offset``²),
the per-channel part of a factory calibration's error (Domínguez-Niño, Bogena, Huisman et
al. 2019, Sensors 19, 3101: RMSE 0.053 m3 m-3 factory, 0.010 sensor- and soil-specific),
plus noise N(0, ``vwc_noise``²), 0.001 m3 m-3 resolution.

The day's hourly values run linearly from the previous day's end state to today's
(``ProbeState``), so a season is produced one day at a time; :func:`sensor_readings` runs
the same model over a whole season.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd
import xarray as xr
from xarray.indexes import PandasIndex

from ..params import require
from ..soil import van_genuchten_tension_kpa
from .world import TruthWorld


@dataclass(frozen=True)
class ProbeParams:
    """The probes' error model (module docstring for the sources).

    Attributes
    ----------
    tension_bias_ln
        σ of the per-channel calibration bias of tension, in ln(ψ) [-].
    wet_floor_kpa
        Range of the per-channel floor ψ0 of a tension reading in wet soil [kPa].
    diurnal_rel, noise_rel, noise_kpa
        Diurnal temperature effect [-], relative and absolute reading noise of tension
        [-, kPa].
    ceiling_kpa
        Top of the tension logger's range [kPa].
    vwc_offset, vwc_noise
        σ of the per-channel water-content offset and of the reading noise [m3 m-3].
    """

    tension_bias_ln: float = 0.2
    wet_floor_kpa: tuple[float, float] = (2.0, 10.0)
    diurnal_rel: float = 0.03
    noise_rel: float = 0.03
    noise_kpa: float = 0.5
    ceiling_kpa: float = 239.0
    vwc_offset: float = 0.03
    vwc_noise: float = 0.004

    def __post_init__(self) -> None:
        require(self.tension_bias_ln >= 0 and self.vwc_offset >= 0, "tension_bias_ln",
                "spreads >= 0")
        lo, hi = self.wet_floor_kpa
        require(0 <= lo <= hi < self.ceiling_kpa, "wet_floor_kpa", "0 <= low <= high < ceiling")


@dataclass(frozen=True)
class ProbeState:
    """The true value of every channel at the end of the previous day: tension [kPa] and
    water content [m3 m-3] ``(sensor, depth)``."""

    tension_kpa: np.ndarray
    theta: np.ndarray


@dataclass(frozen=True)
class ProbeModel:
    """A probe network in a truth world, with its errors drawn (:func:`draw_probes`).

    Arrays over ``sensor`` or (``sensor``, ``depth``): ``site_pos`` (index of the
    probe's site in the world), ``lower``, ``upper``, ``weight`` (the layers a channel
    reads and the interpolation weight of the upper one), ``vg`` (van Genuchten
    parameters of the probe site's layers, each ``(sensor, 3)``), ``bias_ln``,
    ``floor_kpa``, ``offset_theta``, ``is_tension``, ``installed``.
    """

    sensor: np.ndarray
    depth_cm: np.ndarray
    quantity: np.ndarray
    installed: np.ndarray
    site_pos: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    weight: np.ndarray
    vg: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    bias_ln: np.ndarray
    floor_kpa: np.ndarray
    offset_theta: np.ndarray
    params: ProbeParams

    @property
    def is_tension(self) -> np.ndarray:
        """True for tension probes ``(sensor,)``."""
        return self.quantity == "tension"

    def channel_truth(self, theta_layers: np.ndarray) -> ProbeState:
        """The true tension and water content at every channel from the world's layer
        water contents ``(site, 3)``."""
        th = theta_layers[self.site_pos]  # (sensor, 3)
        psi = van_genuchten_tension_kpa(th, *self.vg)
        s = np.arange(self.sensor.size)[:, None]
        w = self.weight
        ln_psi = (1 - w) * np.log(psi[s, self.lower]) + w * np.log(psi[s, self.upper])
        theta = (1 - w) * th[s, self.lower] + w * th[s, self.upper]
        return ProbeState(np.exp(ln_psi), theta)

    def initial_state(self, theta_layers: np.ndarray) -> ProbeState:
        """The state before the first day: the channels at ``theta_layers``."""
        return self.channel_truth(theta_layers)

    def readings_of_day(self, theta_layers: np.ndarray, prev: ProbeState,
                        rng: np.random.Generator) -> tuple[np.ndarray, ProbeState]:
        """The 24 hourly readings of one day and the state for the next.

        Parameters
        ----------
        theta_layers
            The world's layer water contents at the end of the day ``(site, 3)``.
        prev
            The channels at the end of the previous day.
        rng
            Noise of the day (3 normal draws of shape ``(sensor, depth, 24)``).

        Returns
        -------
        (numpy.ndarray, ProbeState)
            Readings ``(sensor, depth, 24)`` for the hours 00..23 UTC: tension [kPa] or
            water content [m3 m-3] by the probe's quantity, NaN where no channel is
            installed; the channels' true state at the end of the day.
        """
        prm = self.params
        now = self.channel_truth(theta_layers)
        frac = (np.arange(24) + 1.0) / 24.0
        ln0, ln1 = np.log(prev.tension_kpa)[..., None], np.log(now.tension_kpa)[..., None]
        psi = np.exp(ln0 + (ln1 - ln0) * frac)
        th = prev.theta[..., None] + (now.theta - prev.theta)[..., None] * frac
        shape = psi.shape
        e_rel, e_abs, e_vwc = (rng.standard_normal(shape) for _ in range(3))
        psi = psi * np.exp(self.bias_ln)[..., None]
        psi = np.cbrt(psi**3 + self.floor_kpa[..., None] ** 3)
        hour = np.arange(24)
        diurnal = 1.0 + prm.diurnal_rel * np.sin(2 * np.pi * (hour - 8) / 24.0)
        psi = psi * diurnal * (1 + prm.noise_rel * e_rel) + prm.noise_kpa * e_abs
        psi = np.clip(np.round(psi), 0.0, prm.ceiling_kpa)
        vwc = np.clip(np.round(th + self.offset_theta[..., None] + prm.vwc_noise * e_vwc, 3),
                      0.0, 1.0)
        value = np.where(self.is_tension[:, None, None], psi, vwc)
        return np.where(self.installed[..., None], value, np.nan), now

    def dataset(self, values: np.ndarray, first_day: np.datetime64,
                **more: np.ndarray) -> xr.Dataset:
        """Readings ``(sensor, depth, 24 n_days)`` as the layout of
        :func:`irrigation.io.sensors.read_sensor_csv`: ``value`` over (``sensor``,
        ``depth``, ``time``) hourly UTC from ``first_day``, coord ``quantity``; ``more``:
        further variables over the same dims (e.g. the flags of
        :func:`irrigation.sensors.range_flags`), in one construction."""
        t0 = np.datetime64(first_day, "D").astype("datetime64[h]")
        time = (t0 + np.arange(values.shape[-1]).astype("timedelta64[h]")).astype(
            "datetime64[ns]")
        # the channels' coordinates once per model, the hours' index built directly (not
        # coords.dim_coords: the readings keep the order sensor, depth, time, quantity)
        index = PandasIndex(pd.Index(time), "time", coord_dtype=time.dtype)
        hours = index.create_variables()["time"]
        hours.attrs = {"timezone": "UTC"}
        c = self._channel_coords
        coords = xr.Coordinates({"sensor": c.variables["sensor"], "depth": c.variables["depth"],
                                 "time": hours, "quantity": c.variables["quantity"]},
                                indexes={**c.xindexes, "time": index})
        dims = ("sensor", "depth", "time")
        return xr.Dataset(
            {"value": (dims, values, {"units": "kPa or m3 m-3 (see quantity)"}),
             **{k: (dims, v) for k, v in more.items()}}, coords=coords)

    @cached_property
    def _channel_coords(self) -> xr.Coordinates:
        """``sensor``, ``depth`` [cm] and ``quantity`` of :meth:`dataset`, with their
        indexes."""
        return xr.Coordinates({"sensor": self.sensor,
                               "depth": ("depth", self.depth_cm, {"units": "cm"}),
                               "quantity": ("sensor", self.quantity)})


def channel_layers(depth_m: np.ndarray, bottom_m: np.ndarray):
    """Layers a channel reads and the weight of the lower (deeper) one.

    Parameters
    ----------
    depth_m
        Channel depths [m] ``(depth,)``.
    bottom_m
        Bottom of each layer [m] ``(sensor, 3)``.

    Returns
    -------
    lower, upper : np.ndarray of int, weight : np.ndarray
        ``(sensor, depth)``: a channel between the midpoints of layers i and i + 1 reads
        both with weight ``(z - mid_i) / (mid_{i+1} - mid_i)`` on i + 1; above the first
        midpoint the first layer, below the last midpoint the last.
    """
    top = np.concatenate([np.zeros((bottom_m.shape[0], 1)), bottom_m[:, :-1]], axis=1)
    mid = (top + bottom_m) / 2.0  # (sensor, 3)
    z = np.asarray(depth_m, float)[None, :]
    n_l = mid.shape[1]
    lower = np.clip((z[..., None] >= mid[:, None, :]).sum(-1) - 1, 0, n_l - 1)
    upper = np.minimum(lower + 1, n_l - 1)
    s = np.arange(mid.shape[0])[:, None]
    m_lo, m_up = mid[s, lower], mid[s, upper]
    weight = np.where(upper > lower, np.clip((z - m_lo) / np.maximum(m_up - m_lo, 1e-9),
                                             0.0, 1.0), 0.0)
    return lower, upper, weight


def draw_probes(world: TruthWorld, sensors: xr.Dataset, rng: np.random.Generator,
                params: ProbeParams | None = None) -> ProbeModel:
    """Place a city's probes in the world and draw their calibration errors.

    Parameters
    ----------
    world
        The truth world (its sites must include every probe's site).
    sensors
        The city's probes over ``sensor`` (``site``, ``kind`` = tension/vwc) and
        ``depth`` [cm], with ``installed`` (``sensor``, ``depth``).
    rng
        Draws, in this order: the tension bias, the wet floor and the water-content
        offset of every channel ``(sensor, depth)``.
    """
    prm = params or ProbeParams()
    pos = pd.Index(world.site).get_indexer(sensors["site"].values)
    if (pos < 0).any():
        raise ValueError(f"probe site {sensors['site'].values[pos < 0][0]!r} not in the world")
    depth = sensors["depth"].values.astype(float)
    lower, upper, weight = channel_layers(depth / 100.0, world.layer_bottom_m[pos])
    shape = (sensors.sizes["sensor"], depth.size)
    bias = rng.normal(0.0, prm.tension_bias_ln, shape)
    floor = rng.uniform(*prm.wet_floor_kpa, shape)
    offset = rng.normal(0.0, prm.vwc_offset, shape)
    installed = (sensors["installed"].values.astype(bool) if "installed" in sensors
                 else np.ones(shape, bool))
    return ProbeModel(
        sensor=sensors["sensor"].values, depth_cm=sensors["depth"].values,
        quantity=sensors["kind"].values.astype(str), installed=installed, site_pos=pos,
        lower=lower, upper=upper, weight=weight, vg=tuple(v[:, pos].T for v in world.vg),
        bias_ln=bias, floor_kpa=floor, offset_theta=offset, params=prm)


def sensor_readings(theta_layers: np.ndarray, probes: ProbeModel, first_day: np.datetime64,
                    rng: np.random.Generator) -> xr.Dataset:
    """A season of hourly readings: :meth:`ProbeModel.readings_of_day` day after day.

    Parameters
    ----------
    theta_layers
        The world's layer water contents at the end of each day ``(time, site, 3)``.
    probes
        The probe network (:func:`draw_probes`).
    first_day
        The day of ``theta_layers[0]``; its readings start flat at that day's state.
    rng
        Noise, drawn day by day (the same draws as the incremental interface).

    Returns
    -------
    xr.Dataset
        ``value`` over (``sensor``, ``depth``, ``time``) hourly UTC, coord ``quantity``
        (:meth:`ProbeModel.dataset`).
    """
    th = np.asarray(theta_layers, float)
    state = probes.initial_state(th[0])
    days = []
    for k in range(th.shape[0]):  # the time loop; channels are vectorised
        values, state = probes.readings_of_day(th[k], state, rng)
        days.append(values)
    values = np.concatenate(days, axis=-1) if days else np.zeros(
        (probes.sensor.size, probes.depth_cm.size, 0))
    return probes.dataset(values, first_day)
