"""Great Expectations' Data Docs views and index, with what they compute once kept for the life of the process.

GX makes a new view, and with it a new Jinja environment, for every Data Docs update, so each validation compiled
the same ~50 page templates again (about a second per suite, issue 9). These views keep the first environment of
their class: same loaders, same filters, templates compiled once. Configured in ``expectations._new_context``.

The index lists every validation result kept, and GX reads and parses each one's JSON again to say whether it
passed: every validation paid for the whole history of results (83 files read per validation on a lake a few runs
old, half its Data Docs time). A stored result never changes under its key (suite, run name and time, batch), so
``IndexBuilder`` keeps what the index needs of each result once it has read it.

Each page section (suites, validation results, profiling) listed every key of its store to find the pages it was
asked for, so a validation's Data Docs cost grew with every result ever kept (three listings a validation).
``SectionBuilder`` looks the given keys up instead.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from typing import ClassVar

from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResult
from great_expectations.render.renderer.site_builder import (
    FALSEY_YAML_STRINGS,
    DefaultSiteIndexBuilder,
    DefaultSiteSectionBuilder,
    _resolve_asset_name,
    resource_key_passes_run_name_filter,
)
from great_expectations.render.view import DefaultJinjaIndexPageView, DefaultJinjaPageView

logger = logging.getLogger(__name__)


class _CompiledOnce:
    _environments: ClassVar[dict[tuple, object]] = {}

    def __init__(self, custom_styles_directory=None, custom_views_directory=None) -> None:
        super().__init__(custom_styles_directory, custom_views_directory)
        # the environment (and its template cache) of the first view of this class and these directories
        key = (type(self), custom_styles_directory, custom_views_directory)
        self.env = self._environments.setdefault(key, self.env)


class PageView(_CompiledOnce, DefaultJinjaPageView):
    pass


class IndexPageView(_CompiledOnce, DefaultJinjaIndexPageView):
    pass


class _GivenKeys:
    """A section's source store as the section builder reads it, listing only the given keys the store holds."""

    def __init__(self, store, keys) -> None:
        self._store = store
        # as the store's listing gives them: from the stored tuple (a run without a name is named "__none__")
        keys = [store.key_class.from_tuple(k.to_tuple()) for k in keys if isinstance(k, store.key_class)]
        self._keys = [k for k in keys if store.has_key(k)]

    def list_keys(self) -> list:
        return self._keys

    def get(self, key):
        return self._store.get(key)


class SectionBuilder(DefaultSiteSectionBuilder):
    """GX's section builder (``DefaultSiteSectionBuilder``), which with resource identifiers reads only those keys
    from its store rather than listing the whole store; without them it builds every page, as GX does."""

    def build(self, resource_identifiers=None) -> None:
        if not resource_identifiers:
            return super().build(resource_identifiers)
        store = self.source_store
        self.source_store = _GivenKeys(store, resource_identifiers)
        try:
            return super().build(resource_identifiers)
        finally:
            self.source_store = store


class IndexBuilder(DefaultSiteIndexBuilder):
    """GX's index, each validation result read once per process (``DefaultSiteIndexBuilder`` of GX 1.x, the
    result's summary cached). Absent results are read again each time, as GX does, so they show once written."""

    # (context, store, result key) -> (success, batch_kwargs, batch_spec, asset name)
    _summaries: ClassVar[dict[tuple, tuple]] = {}

    def _summary(self, key) -> tuple | None:
        store = self.source_stores.get("validations")
        cache_key = (id(self.data_context), store, key.to_tuple())
        if cache_key not in self._summaries:
            validation = self.data_context.get_validation_result(
                batch_identifier=key.batch_identifier,
                expectation_suite_name=key.expectation_suite_identifier.name,
                run_id=key.run_id,
                validation_results_store_name=store,
            )
            # get_validation_result() returns {} when no result matches the key
            if not isinstance(validation, ExpectationSuiteValidationResult):
                return None
            self._summaries[cache_key] = (validation.success, validation.meta.get("batch_kwargs", {}),
                                          validation.meta.get("batch_spec", {}), _resolve_asset_name(validation))
        return self._summaries[cache_key]

    def _add_validations_to_index_links(self, index_links_dict: OrderedDict, site_keys: list) -> None:
        validations = self.site_section_builders_config.get("validations", "None")
        if not validations or validations in FALSEY_YAML_STRINGS:
            return
        name_filter = self.site_section_builders_config["validations"]["run_name_filter"]
        keys = sorted((k for k in site_keys if resource_key_passes_run_name_filter(k, name_filter)),
                      key=lambda k: k.run_id.run_time, reverse=True)
        if self.validation_results_limit:
            keys = keys[: self.validation_results_limit]
        for key in keys:
            try:
                summary = self._summary(key)
            except Exception:  # as GX does: a result it cannot read is left out of the index, not the docs
                logger.warning(f"Validation result not found: {key.to_tuple()!s:s} - skipping")
                continue
            if summary is None:
                logger.warning(f"Validation result not found: {key.to_tuple()!s:s} - skipping")
                continue
            success, batch_kwargs, batch_spec, asset_name = summary
            self.add_resource_info_to_index_links_dict(
                index_links_dict=index_links_dict,
                expectation_suite_name=key.expectation_suite_identifier.name,
                section_name="validations",
                batch_identifier=key.batch_identifier,
                run_id=key.run_id,
                validation_success=success,
                run_time=key.run_id.run_time,
                run_name=key.run_id.run_name,
                asset_name=asset_name,
                batch_kwargs=batch_kwargs,
                batch_spec=batch_spec,
            )
