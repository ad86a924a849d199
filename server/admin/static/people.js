// 房屋与住户, 员工, 营业时间与节假日 (the Content-Security-Policy allows no inline script).
(function () {
  'use strict'

  document.addEventListener('input', function (event) {
    // Typing in a house search box again forgets the house picked before (admin.js [data-pick] fills it).
    const box = event.target.closest('[data-shows]')
    if (!box || !box.form) return
    const hidden = box.form.querySelector('[name="' + box.getAttribute('data-shows') + '"]')
    if (hidden) hidden.value = ''
  })

  document.addEventListener('change', function (event) {
    // A suggestion picked in a form marked data-open-picked opens that house's page.
    const form = event.target.form
    if (form && form.hasAttribute('data-open-picked') && event.target.name === 'house_id' && event.target.value) {
      form.submit()
    }
    // A weekday marked closed hides its hours (they are not sent).
    const open = event.target.closest('[data-day-open]')
    if (open) {
      const row = open.closest('tr')
      row.querySelectorAll('input[type=time]').forEach(function (input) { input.disabled = !open.checked })
    }
  })
})()
