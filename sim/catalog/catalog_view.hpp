#pragma once
// Presentation of catalog entries for `servetwin list` / `servetwin show`: key-column tables, typed
// JSON of each entry (SI units: bytes, bytes/s, FLOP/s, ns, USD/h), and a sourced field listing.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/catalog/catalog.hpp"

namespace servetwin {

struct CatalogTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
};

// One row per entry of `kind` (normalized kind name), sorted by name.
CatalogTable catalog_table(const Catalog& catalog, const std::string& kind);
// Columns padded to equal width; `bold_header` adds ANSI bold (terminal output only).
std::string render_table(const CatalogTable& table, bool bold_header);

// Typed values of one entry (what the simulator uses), SI units named in the keys.
nlohmann::json entry_json(const Catalog& catalog, const std::string& kind, const std::string& name);

// Every field of the entry's YAML document with its unit and source/provenance, one per line.
std::string render_document(const Catalog& catalog, const std::string& kind, const std::string& name);

}  // namespace servetwin
