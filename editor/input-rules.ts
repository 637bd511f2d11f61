import type { NodeType, Schema } from 'prosemirror-model'
import type { Plugin } from 'prosemirror-state'
import {
  InputRule,
  inputRules,
  wrappingInputRule,
  textblockTypeInputRule,
  smartQuotes,
  ellipsis,
  emDash,
} from 'prosemirror-inputrules'

/** `> ` at the start of a block wraps it in a blockquote. */
function blockquoteRule(type: NodeType): InputRule {
  return wrappingInputRule(/^\s*>\s$/, type)
}

/** `1. ` starts an ordered list (the number is kept as the list's start). */
function orderedListRule(type: NodeType): InputRule {
  return wrappingInputRule(
    /^(\d+)\.\s$/,
    type,
    (match) => ({ order: Number(match[1]) }),
    (match, node) => node.childCount + (node.attrs['order'] as number) === Number(match[1]),
  )
}

/** `- `, `+ ` or `* ` starts a bullet list. */
function bulletListRule(type: NodeType): InputRule {
  return wrappingInputRule(/^\s*([-+*])\s$/, type)
}

/** Three backticks turn the block into a code block. */
function codeBlockRule(type: NodeType): InputRule {
  return textblockTypeInputRule(/^```$/, type)
}

/** `#` to `######` followed by a space make a heading of that level. */
function headingRule(type: NodeType, maxLevel: number): InputRule {
  return textblockTypeInputRule(new RegExp(`^(#{1,${maxLevel}})\\s$`), type, (match) => ({
    level: match[1]?.length ?? 1,
  }))
}

/** Markdown-ish input rules for the schema's nodes, plus smart quotes, ellipsis and em dash. */
export function buildInputRules(schema: Schema): Plugin {
  const rules: InputRule[] = [...smartQuotes, ellipsis, emDash]
  const { nodes } = schema
  if (nodes['blockquote']) rules.push(blockquoteRule(nodes['blockquote']))
  if (nodes['ordered_list']) rules.push(orderedListRule(nodes['ordered_list']))
  if (nodes['bullet_list']) rules.push(bulletListRule(nodes['bullet_list']))
  if (nodes['code_block']) rules.push(codeBlockRule(nodes['code_block']))
  if (nodes['heading']) rules.push(headingRule(nodes['heading'], 6))
  return inputRules({ rules })
}
