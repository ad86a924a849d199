// 来电来访登记: the intake form's keyboard flow (the Content-Security-Policy allows no inline script).
// admin.js fills the form when a suggestion is picked ([data-pick]) and moves from the search box into the
// suggestions with arrow down; this file does the rest:
// - arrow up/down between suggestions, Enter in the search box picks the first one (never submits);
// - after a pick, focus goes to the caller's name if nobody is known, else to the kind;
// - typing a new search forgets the picked house and the name and phone it filled in (not what was typed);
// - the chosen kind shows its fields (the others are disabled, so they are not submitted);
// - "urgent" only for the repair categories that allow it;
// - Enter moves to the next field, Ctrl+Enter submits from anywhere in the form.
(function () {
  'use strict'

  function form () { return document.getElementById('intake-form') }
  function field (name) { return form().querySelector('[name="' + name + '"]') }
  function search () { return document.getElementById('house-q') }
  function suggestions () { return document.getElementById('house-suggestions') }

  function showKind (kind) {
    form().querySelectorAll('[data-kinds]').forEach(function (el) {
      const on = el.getAttribute('data-kinds').split(' ').indexOf(kind) >= 0
      el.hidden = !on
      if (el.tagName === 'FIELDSET') el.disabled = !on
    })
  }

  function syncUrgent () {
    const urgent = form().querySelector('input[type=checkbox][name=urgent]')
    const category = form().querySelector('fieldset[data-kinds=repair] input[name=category]:checked')
    const allowed = !!category && category.hasAttribute('data-urgent-allowed')
    urgent.disabled = !allowed
    if (!allowed) urgent.checked = false
  }

  function picked () {
    const name = field('contact_name')
    const next = name.value ? form().querySelector('input[name=kind]:checked') : name
    if (next) next.focus()
    suggestions().innerHTML = ''
  }

  // The next control after `from` in the form: visible, enabled, one stop per radio group (its checked
  // radio, else its first).
  function focusNext (from) {
    const next = Array.from(form().querySelectorAll('input, select, textarea, button')).find(function (el) {
      if (!(from.compareDocumentPosition(el) & Node.DOCUMENT_POSITION_FOLLOWING)) return false
      if (el.disabled || el.type === 'hidden' || el.closest('[hidden]') || el.closest('.suggestion-box')) return false
      if (el.type !== 'radio') return true
      if (el.name === from.name) return false
      const checked = form().querySelector('input[name="' + el.name + '"]:checked:not(:disabled)')
      return checked ? el === checked : el === form().querySelector('input[name="' + el.name + '"]:not(:disabled)')
    })
    if (next) next.focus()
  }

  document.addEventListener('change', function (event) {
    const f = form()
    if (!f || !f.contains(event.target)) return
    const t = event.target
    if (t.name === 'kind') showKind(t.value)
    if (t.name === 'category') syncUrgent()
    if (t.name === 'house_id' && t.value) picked()
  })

  document.addEventListener('input', function (event) {
    const f = form()
    if (!f || !f.contains(event.target)) return
    const t = event.target
    if (t.name === 'contact_name' || t.name === 'contact_phone') t.setAttribute('data-typed', '')
    if (t === search()) {
      field('house_id').value = ''
      ;['contact_name', 'contact_phone'].forEach(function (name) {
        const input = field(name)
        if (!input.hasAttribute('data-typed')) input.value = ''
      })
    }
  })

  document.addEventListener('keydown', function (event) {
    const f = form()
    if (!f) return
    const t = event.target
    const list = suggestions()
    if (list.contains(t)) {
      const buttons = Array.from(list.querySelectorAll('[data-pick]'))
      if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
        event.preventDefault()
        const i = buttons.indexOf(t) + (event.key === 'ArrowDown' ? 1 : -1)
        if (i < 0) search().focus()
        else if (i < buttons.length) buttons[i].focus()
      } else if (event.key === 'Escape') {
        list.innerHTML = ''
        search().focus()
      }
      return // Enter clicks the focused suggestion (admin.js picks it)
    }
    if (!f.contains(t) || event.key !== 'Enter' || event.isComposing) return
    if (event.ctrlKey || event.metaKey) {
      event.preventDefault()
      f.requestSubmit()
    } else if (t === search()) {
      // Enter picks the first suggestion, once they are the ones for what is typed now.
      event.preventDefault()
      const shown = list.querySelector('[data-q]')
      const first = list.querySelector('[data-pick]')
      if (first && shown && shown.getAttribute('data-q') === t.value.trim()) first.click()
    } else if (t.tagName === 'INPUT' && t.type !== 'file') {
      event.preventDefault()
      if (t.type === 'radio' && !t.checked) t.click() // Enter on a radio chooses it
      focusNext(t)
    }
  })

  document.addEventListener('click', function (event) {
    const remove = event.target.closest('[data-remove-photo]')
    if (remove) remove.closest('li').remove()
  })

  // A form shown again with errors: start at the first field that needs fixing.
  document.addEventListener('DOMContentLoaded', function () {
    const f = form()
    const error = f && f.querySelector('.field-error')
    if (!error) return
    const scope = error.closest('.house-search, label, fieldset')
    const input = scope && scope.querySelector('input:not([type=hidden]):not(:disabled), select, textarea')
    if (input) input.focus()
  })

  // Suggestions that arrive after a house was picked (the request left before) are not shown.
  document.addEventListener('htmx:beforeSwap', function (event) {
    if (event.detail.target === suggestions() && field('house_id').value) event.detail.shouldSwap = false
  })

  document.addEventListener('htmx:afterSwap', function (event) {
    if (event.target === suggestions()) {
      search().setAttribute('aria-expanded', suggestions().querySelector('[data-pick]') ? 'true' : 'false')
    }
  })
  document.addEventListener('htmx:afterRequest', function (event) {
    const elt = event.detail.elt
    if (elt && elt.type === 'file') elt.value = '' // the same photo may be chosen again after "移除"
  })
  // A click outside closes the suggestions.
  document.addEventListener('focusin', function (event) {
    const box = document.querySelector('.house-search')
    if (box && suggestions() && !box.contains(event.target)) suggestions().innerHTML = ''
  })
})()
