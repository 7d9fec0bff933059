{#-
    The registry's counts for the run summary, one row per indicator in `ordre`:
    invoice lines read = auto observations + lines with QT_UF <= 0 (not observations)
    + lines with QT_UF > 0 dated after the reference date (not yet observations);
    observations per source type; evaluated / insufficient data; anomalies per review
    status; flagged observations per severity (whole history).
-#}
with

invoice_lines as (

    select * from {{ ref('stg_source__facture_ligne') }}

),

observations as (

    select * from {{ ref('price_observations') }}

),

line_counts as (

    select
        count(*) as lines_read,
        count(*) filter (where qt_uf is null or qt_uf <= 0) as lines_not_positive,
        count(*) filter (where qt_uf > 0 and dt_facture > {{ pt2qe_date('as_of') }}) as lines_after_as_of
    from invoice_lines

),

observation_counts as (

    select
        count(*) as observations,
        count(*) filter (where source_type = 'auto') as observations_auto,
        count(*) filter (where source_type = 'import') as observations_import,
        count(*) filter (where source_type = 'manual') as observations_manual,
        count(*) filter (where source_type = 'catalog') as observations_catalog,
        count(*) filter (where is_promo) as observations_promo,
        count(*) filter (where is_reference) as observations_reference,
        count(*) filter (where status_reason = 'INSUFFICIENT_DATA') as insufficient_data,
        count(*) filter (where status_reason <> 'INSUFFICIENT_DATA') as evaluated,
        count(*) filter (where is_anomaly) as anomalies,
        count(*) filter (where is_anomaly and review_status = 'pending') as anomalies_pending,
        count(*) filter (where is_anomaly and review_status = 'validated') as anomalies_validated,
        count(*) filter (where is_anomaly and review_status = 'rejected') as anomalies_rejected,
        count(*) filter (where is_anomaly and review_status = 'exception') as anomalies_exception,
        count(*) filter (where severity = 'critical') as severity_critical,
        count(*) filter (where severity = 'high') as severity_high,
        count(*) filter (where severity = 'medium') as severity_medium,
        count(*) filter (where severity = 'low') as severity_low
    from observations

),

final as (

    select ordre, indicateur, valeur
    from line_counts
    cross join observation_counts
    cross join lateral (
        values
        (1, 'lignes_facture_lues', lines_read),
        (2, 'lignes_qt_uf_non_positive', lines_not_positive),
        (3, 'lignes_apres_date_reference', lines_after_as_of),
        (4, 'observations_auto', observations_auto),
        (5, 'observations_import', observations_import),
        (6, 'observations_manual', observations_manual),
        (7, 'observations_catalog', observations_catalog),
        (8, 'observations', observations),
        (9, 'observations_promo', observations_promo),
        (10, 'observations_reference', observations_reference),
        (11, 'observations_evaluees', evaluated),
        (12, 'observations_donnees_insuffisantes', insufficient_data),
        (13, 'anomalies', anomalies),
        (14, 'anomalies_pending', anomalies_pending),
        (15, 'anomalies_validated', anomalies_validated),
        (16, 'anomalies_rejected', anomalies_rejected),
        (17, 'anomalies_exception', anomalies_exception),
        (18, 'severite_critical', severity_critical),
        (19, 'severite_high', severity_high),
        (20, 'severite_medium', severity_medium),
        (21, 'severite_low', severity_low),
        (22, 'ecart_lignes_lues_observations', lines_read - observations_auto - lines_not_positive - lines_after_as_of),
        (23, 'ecart_observations_sources', observations - observations_auto - observations_import - observations_manual - observations_catalog)
    ) as indicators (ordre, indicateur, valeur)

)

select * from final
