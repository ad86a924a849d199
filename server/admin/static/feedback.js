// Forms of the feedback pages (the Content-Security-Policy allows no inline script).
(function () {
  'use strict'

  document.addEventListener('input', function (event) {
    // Typing in a search box again forgets the house picked before (admin.js [data-pick] fills it).
    const box = event.target.closest('[data-shows]')
    if (!box) return
    const hidden = box.form && box.form.querySelector('[name="' + box.getAttribute('data-shows') + '"]')
    if (hidden) hidden.value = ''
  })

  document.addEventListener('change', function (event) {
    // Ticking a building means "these buildings", not the whole community.
    const building = event.target.closest('[data-scope-building]')
    if (!building || !building.checked) return
    const choice = building.form.querySelector('input[name="scope"][value="buildings"]')
    if (choice && !choice.checked) {
      choice.checked = true
      choice.dispatchEvent(new Event('change', { bubbles: true }))
    }
  })
})()
