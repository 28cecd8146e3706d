"""A synthetic "truth" world: what the city's trees and probes would do, unlike the planner.

The closed-loop scenarios and the demo city's sensor series need a world the planning
model does not know: its parameters are drawn per site around the planner's, its structure
differs, the crews' log of what they gave errs, and the probes err as real ones do.
Everything is drawn from a ``numpy.random.Generator`` passed in; the season gives each
member its own.

Per-site draws (:func:`draw_world`; spreads in :class:`TruthParams`, source of each)
-----------------------------------------------------------------------------------
- **θWP, θFC of each of three layers**: θWP ~ N(site's θWP, σ), θFC - θWP ~ N(site's, σ),
  σ = width of the texture's FAO-56 Table 19 range / 4 (the range read as ±2σ; classes
  outside the table: the median relative σ of its classes); the layers of a site
  correlated ρ = 0.5 (project value). **θs** ~ N(θs, 0.07²) in [θFC + 0.05, 0.6]: the
  middle of Carsel & Parrish's (1988) within-class σ of θs (0.05-0.11). **α, n** refitted
  through (ψFC, θFC) and (1500 kPa, θWP) with θr = min(θr, θWP / 2), as the planner's
  table was made (van Genuchten 1980; :func:`irrigation.soil.fit_van_genuchten`).
- **Drainage** τ = 0.0866 Ks^0.35 (Ks in mm d-1; AquaCrop, Raes et al. 2012), Ks lognormal
  around the texture's with σ_ln 1.2 (Carsel & Parrish 1988: CV of Ks 1.7-2.7); substrates
  without Ks 100 cm d-1 (project value).
- **Root depth** Zr lognormal σ_ln 0.17 (FAO-56 Table 22 Zr ranges, max/min ~2, as ±2σ);
  **root distribution** 1 - β^d above depth d [cm], β = 0.966 trees, 0.943 lawns, 0.964
  shrubs (Jackson et al. 1996).
- **K_L** = planner's K_L x a species factor (lognormal, σ of its WUCOLS class range as
  ±2σ: H 0.06, M 0.10, L/VL 0.25) x a tree factor (σ_ln 0.15: the WUCOLS density factor
  range "low" 0.5-0.9 as ±2σ) (Costello & Jones 2014, WUCOLS IV).
- **Leaf-out** of deciduous trees: K_L x f(day of year), f = Kc_ini / Kc_mid = 0.47
  before leaf unfolding, full after 40 d, down to Kc_end / Kc_mid = 0.74 at leaf fall
  (FAO-56 Table 12); leaf unfolding by genus (approximate DWD phenology means) ± 7 d a
  year ± 5 d a tree (:mod:`irrigation.truth.phenology`). Evergreens, lawns, shrubs: 1.
- **Interception** by grown trees: canopy storage U(0.5, 1.5) mm in full leaf (broadleaf
  canopies, Breuer et al. 2003).
- **Sealing**: share of rain through the sealing ~ Beta(planner's class value, σ 0.1)
  (project value). **Run-on**: half the sealed pits take the runoff (1 - class share) of
  paving of U(0, 1) x their own area (Shetty 2023: tributary sidewalk areas of tree pits).
- **Watering efficiency** U(0.6, 1.0) per site (application efficiencies of surface 0.6
  to drip 0.9, Brouwer et al. 1989).
- **Capillary rise**: the planner's potential x lognormal σ_ln 0.5 (project value).
- **ET0 and rain fields**: smooth spatial fields ±10 % (0.5-3 km waves), the district's
  rain x lognormal σ 0.5 a day against the station's (project values).
- **Watering log** (:meth:`TruthWorld.logged_l`): reported litres x lognormal σ 0.1,
  rounded to 10 L; 3 % of visits unlogged; 25 % of planned visits not done logged as
  done (project values: no published error rates of watering logs were found).
- **Initial state** (:meth:`TruthWorld.initial_state`): each layer's relative water
  content (θ - θWP) / (θFC - θWP) ~ U(0.4, 1.1) (project value; the planner starts at
  field capacity).

Structure (:mod:`irrigation.truth.layers`)
------------------------------------------
Three layers per site (topsoil 0-min(30 cm, Zr/2), the rest of the root zone, 30 cm or more
below the roots), each with its own θ and curve: rain, run-on and watering enter the top;
water above field capacity drains down over days (τ); roots take up by their
distribution, each layer limited by its own FAO-56 Ks; capillary rise from the water
table (the depth the season passes each day) enters the lower root layer; what leaves the
bottom layer is recharge. The column's mass balance closes to rounding (tested).

Probes (:mod:`irrigation.truth.probes`)
---------------------------------------
Channels read the layer at their depth in tension space: calibration bias, a floor near
saturation, noise, integer kPa, pinned at the logger's 239 kPa ceiling; water-content
probes with a per-channel offset. :class:`ProbeModel` produces one day at a time
(:meth:`ProbeModel.readings_of_day`); :func:`sensor_readings` a season.

References
----------
Allen, R. G., Pereira, L. S., Raes, D. & Smith, M. (1998). FAO-56.
Brouwer, C., Prins, K. & Heibloem, M. (1989). Irrigation Water Management: Irrigation
Scheduling. FAO Training Manual 4.
Breuer, L., Eckhardt, K. & Frede, H.-G. (2003). Plant parameter values for models in
temperate climates. Ecol. Model. 169, 237-293.
Carsel, R. F. & Parrish, R. S. (1988). Developing joint probability distributions of soil
water retention characteristics. Water Resour. Res. 24, 755-769.
Costello, L. R. & Jones, K. S. (2014). WUCOLS IV.
Jackson, R. B. et al. (1996). A global analysis of root distributions for terrestrial
biomes. Oecologia 108, 389-411.
Raes, D., Steduto, P., Hsiao, T. C. & Fereres, E. (2012). AquaCrop reference manual, FAO.
Shetty, N. H. (2023). Estimating stormwater infiltration and canopy interception for
street tree pits in Manhattan, New York. Forests 14, 216.
van Genuchten, M. Th. (1980). Soil Sci. Soc. Am. J. 44, 892-898.
"""

from .draw import draw_world as draw_world
from .faults import FAULTS as FAULTS
from .faults import inject_faults as inject_faults
from .layers import LAYERS as LAYERS
from .layers import layer_step as layer_step
from .phenology import leaf_factor as leaf_factor
from .probes import ProbeModel as ProbeModel
from .probes import ProbeParams as ProbeParams
from .probes import ProbeState as ProbeState
from .probes import draw_probes as draw_probes
from .probes import sensor_readings as sensor_readings
from .world import TruthDay as TruthDay
from .world import TruthParams as TruthParams
from .world import TruthState as TruthState
from .world import TruthWorld as TruthWorld
from .world import run_truth as run_truth
