-- The published views' preset filter (scalar macro): a row of preset p is shown when the session variable
-- `preset` names it, or is '*' (every preset); unset, only native rows are shown, so the published views keep
-- one row per (underlying, session) for consumers that never heard of presets. Readers choose with
-- `SET VARIABLE preset = 'perfiliev'` (`gex sql --preset perfiliev`, `gex report --preset`).
CREATE OR REPLACE MACRO core.preset_selected(p) AS coalesce(getvariable('preset'), 'native') IN (p, '*');
