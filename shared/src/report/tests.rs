//! Pure report tests: percentiles, periods, satisfaction, grouping and the CSV form.

use super::*;
