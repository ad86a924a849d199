// The admin page's behaviour, in one static file (the Content-Security-Policy allows no inline script).
(function () {
  'use strict'

  // Deadlines count down every second: "还剩 12:05", then "已超时 03:10".
  function pad (n) { return String(n).padStart(2, '0') }
  function span (seconds) {
    const s = Math.abs(seconds)
    const h = Math.floor(s / 3600)
    const m = Math.floor((s % 3600) / 60)
    const text = pad(m) + ':' + pad(Math.floor(s % 60))
    return h ? h + ' 小时 ' + text : text
  }
  function tick () {
    const now = Date.now()
    document.querySelectorAll('[data-due]').forEach(function (el) {
      const due = Date.parse(el.getAttribute('data-due'))
      if (isNaN(due)) return
      const left = Math.round((due - now) / 1000)
      el.textContent = left >= 0 ? '还剩 ' + span(left) : '已超时 ' + span(left)
      el.classList.toggle('late', left < 0)
    })
  }
  setInterval(tick, 1000)

  document.addEventListener('click', function (event) {
    const target = event.target.closest('[data-dismiss], [data-print], [data-pick]')
    if (!target) return
    if (target.hasAttribute('data-dismiss')) {
      const box = target.closest('.flash')
      if (box) box.remove()
    } else if (target.hasAttribute('data-print')) {
      window.print()
    } else if (target.hasAttribute('data-pick')) {
      // A suggestion was chosen: fill the hidden id and the visible text of its form, close the list.
      event.preventDefault()
      const form = target.closest('form')
      const field = form.querySelector('[name="' + target.getAttribute('data-pick') + '"]')
      field.value = target.getAttribute('data-value')
      const shown = form.querySelector('[data-shows="' + target.getAttribute('data-pick') + '"]')
      if (shown) shown.value = target.getAttribute('data-label')
      const fill = JSON.parse(target.getAttribute('data-fill') || '{}')
      Object.keys(fill).forEach(function (name) {
        const input = form.querySelector('[name="' + name + '"]')
        if (input && !input.value) input.value = fill[name]
      })
      const list = target.closest('.suggestions')
      if (list) list.innerHTML = ''
      field.dispatchEvent(new Event('change', { bubbles: true }))
    }
  })

  // Keyboard: arrow down from a search box goes into its suggestions; Escape closes them.
  document.addEventListener('keydown', function (event) {
    const box = event.target.closest('[data-suggest]')
    if (!box) return
    const list = document.getElementById(box.getAttribute('data-suggest'))
    if (!list) return
    if (event.key === 'ArrowDown') {
      const first = list.querySelector('button')
      if (first) { event.preventDefault(); first.focus() }
    } else if (event.key === 'Escape') {
      list.innerHTML = ''
    }
  })

  // After htmx swaps new content in, count down there too.
  document.addEventListener('htmx:afterSwap', tick)
  document.addEventListener('DOMContentLoaded', tick)
})()
