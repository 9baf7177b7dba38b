#include "sim/catalog/doc_node.hpp"

namespace servetwin::yamlx {

const DocNode& DocNode::at(std::string_view key) const {
  static const DocNode undefined;
  for (const auto& [k, v] : entries_) {
    if (k.text_ == key) return v;
  }
  return undefined;
}

DocNode from_yaml(const YAML::Node& node) {
  const int line = node.Mark().line;
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      DocNode m = DocNode::map(line);
      m.reserve(node.size());
      for (const auto& kv : node) m.add_entry(from_yaml(kv.first), from_yaml(kv.second));
      return m;
    }
    case YAML::NodeType::Sequence: {
      DocNode s = DocNode::sequence(line);
      s.reserve(node.size());
      for (const auto& item : node) s.add_item(from_yaml(item));
      return s;
    }
    case YAML::NodeType::Scalar: return DocNode::scalar(node.Scalar(), node.Tag() == "!", line);
    case YAML::NodeType::Null: return DocNode::null(line);
    case YAML::NodeType::Undefined: break;
  }
  return {};
}

}  // namespace servetwin::yamlx
