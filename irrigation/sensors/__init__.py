"""Soil sensors: quality control, observation operator and assimilation into site states.

Readings come from :mod:`irrigation.io.sensors` as a Dataset over ``sensor`` (a probe in
one tree pit), ``depth`` [cm] and ``time`` (UTC) with ``value`` in kPa (tension) or
m3 m-3 (volumetric water content) and the probe's ``quantity``.

1. :mod:`~irrigation.sensors.qc`: :func:`quality_control` flags every reading that must
   not enter the model; :func:`qc_summary` is the per-channel table of the report.
2. :mod:`~irrigation.sensors.observe`: the observation operator, from the valid readings
   before each morning to an observed root-zone depletion Dr [mm] with an error variance.
3. :mod:`~irrigation.sensors.assimilate`: optimal interpolation of Dr over all sites,
   the sensed sites directly, the others through a background-error correlation.

The season replay that scores the assimilation at held-out probes is
:mod:`irrigation.hindcast`.
"""

from .assimilate import DEFAULT_ASSIMILATION as DEFAULT_ASSIMILATION
from .assimilate import AssimilationRules as AssimilationRules
from .assimilate import CorrelationRows as CorrelationRows
from .assimilate import advance_variance as advance_variance
from .assimilate import analysis as analysis
from .assimilate import analysis_arrays as analysis_arrays
from .assimilate import background_correlation as background_correlation
from .assimilate import probe_correlation as probe_correlation
from .observe import channel_theta as channel_theta
from .observe import daily_observations as daily_observations
from .observe import layer_weights as layer_weights
from .observe import morning_observations as morning_observations
from .observe import probe_hydraulics as probe_hydraulics
from .observe import root_zone_depletion as root_zone_depletion
from .observe import window_bounds as window_bounds
from .observe import window_means as window_means
from .qc import DEFAULT_QC as DEFAULT_QC
from .qc import INFORMATIVE_FLAGS as INFORMATIVE_FLAGS
from .qc import QC_FLAGS as QC_FLAGS
from .qc import QCRules as QCRules
from .qc import at_ceiling as at_ceiling
from .qc import in_physical_range as in_physical_range
from .qc import qc_summary as qc_summary
from .qc import quality_control as quality_control
from .qc import range_check as range_check
from .qc import range_flags as range_flags
