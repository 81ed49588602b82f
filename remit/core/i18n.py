"""Words and formats of documents and emails in the six supported languages (D3).

Labels live here rather than in gettext catalogues because documents are rendered by workers for
an account's language, outside any request; amounts and dates are formatted by Babel (CLDR).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

from remit.core.money import minor_to_major

LANGUAGES = ("en", "de", "fr", "es", "ja", "zh-hans")
BABEL_LOCALES = {"en": "en_US", "de": "de_DE", "fr": "fr_FR", "es": "es_ES", "ja": "ja_JP",
                 "zh-hans": "zh_Hans_CN"}  # fmt: skip
TYPST_LANGUAGES = {"en": "en", "de": "de", "fr": "fr", "es": "es", "ja": "ja", "zh-hans": "zh"}

_LABELS: dict[str, dict[str, str]] = {
    "invoice": {"en": "Invoice", "de": "Rechnung", "fr": "Facture", "es": "Factura",
                "ja": "請求書", "zh-hans": "发票"},
    "credit_note": {"en": "Credit note", "de": "Gutschrift", "fr": "Avoir",
                    "es": "Factura rectificativa", "ja": "クレジットノート", "zh-hans": "贷项通知单"},
    "receipt": {"en": "Payment receipt", "de": "Zahlungsbestätigung", "fr": "Reçu de paiement",
                "es": "Recibo de pago", "ja": "領収書", "zh-hans": "付款收据"},
    "number": {"en": "Number", "de": "Nummer", "fr": "Numéro", "es": "Número", "ja": "番号",
               "zh-hans": "编号"},
    "issue_date": {"en": "Issue date", "de": "Rechnungsdatum", "fr": "Date d'émission",
                   "es": "Fecha de emisión", "ja": "発行日", "zh-hans": "开票日期"},
    "due_date": {"en": "Due date", "de": "Fällig am", "fr": "Date d'échéance",
                 "es": "Fecha de vencimiento", "ja": "支払期限", "zh-hans": "到期日"},
    "paid_on": {"en": "Paid on", "de": "Bezahlt am", "fr": "Payée le", "es": "Pagada el",
                "ja": "支払日", "zh-hans": "付款日期"},
    "revision": {"en": "Revision", "de": "Revision", "fr": "Révision", "es": "Revisión",
                 "ja": "改訂", "zh-hans": "修订"},
    "po_number": {"en": "PO number", "de": "Bestellnummer", "fr": "Numéro de bon de commande",
                  "es": "Número de pedido", "ja": "発注番号", "zh-hans": "采购订单号"},
    "bill_to": {"en": "Bill to", "de": "Rechnungsempfänger", "fr": "Facturé à",
                "es": "Facturar a", "ja": "請求先", "zh-hans": "收票方"},
    "tax_id": {"en": "Tax ID", "de": "USt-IdNr.", "fr": "N° TVA", "es": "NIF/IVA",
               "ja": "税務ID", "zh-hans": "税号"},
    "description": {"en": "Description", "de": "Beschreibung", "fr": "Description",
                    "es": "Descripción", "ja": "内容", "zh-hans": "描述"},
    "quantity": {"en": "Qty", "de": "Menge", "fr": "Qté", "es": "Cant.", "ja": "数量",
                 "zh-hans": "数量"},
    "unit_price": {"en": "Unit price", "de": "Einzelpreis", "fr": "Prix unitaire",
                   "es": "Precio unitario", "ja": "単価", "zh-hans": "单价"},
    "discount": {"en": "Discount", "de": "Rabatt", "fr": "Remise", "es": "Descuento",
                 "ja": "割引", "zh-hans": "折扣"},
    "tax_rate": {"en": "Tax", "de": "USt.", "fr": "TVA", "es": "IVA", "ja": "税率",
                 "zh-hans": "税率"},
    "amount": {"en": "Amount", "de": "Betrag", "fr": "Montant", "es": "Importe", "ja": "金額",
               "zh-hans": "金额"},
    "subtotal": {"en": "Subtotal", "de": "Zwischensumme", "fr": "Sous-total", "es": "Subtotal",
                 "ja": "小計", "zh-hans": "小计"},
    "tax_on": {"en": "Tax {rate} on {amount}", "de": "USt. {rate} auf {amount}",
               "fr": "TVA {rate} sur {amount}", "es": "IVA {rate} sobre {amount}",
               "ja": "税 {rate}（対象 {amount}）", "zh-hans": "税 {rate}（计税金额 {amount}）"},
    "total": {"en": "Total", "de": "Gesamtbetrag", "fr": "Total", "es": "Total", "ja": "合計",
              "zh-hans": "合计"},
    "total_credited": {"en": "Total credited", "de": "Gutgeschriebener Betrag",
                       "fr": "Total crédité", "es": "Total abonado", "ja": "クレジット合計",
                       "zh-hans": "贷记合计"},
    "amount_paid": {"en": "Amount paid", "de": "Gezahlter Betrag", "fr": "Montant payé",
                    "es": "Importe pagado", "ja": "支払額", "zh-hans": "已付金额"},
    "status_paid": {"en": "PAID", "de": "BEZAHLT", "fr": "PAYÉE", "es": "PAGADA",
                    "ja": "支払済み", "zh-hans": "已付款"},
    "notes": {"en": "Notes", "de": "Hinweise", "fr": "Remarques", "es": "Notas", "ja": "備考",
              "zh-hans": "备注"},
    "pay_by_transfer": {
        "en": "Please pay by bank transfer by the due date, quoting the reference {reference}.",
        "de": "Bitte überweisen Sie den Betrag bis zum Fälligkeitsdatum unter Angabe der "
              "Referenz {reference}.",
        "fr": "Merci de régler par virement avant la date d'échéance en indiquant la "
              "référence {reference}.",
        "es": "Por favor, pague mediante transferencia antes de la fecha de vencimiento "
              "indicando la referencia {reference}.",
        "ja": "支払期限までに、参照番号 {reference} を記載の上お振込みください。",
        "zh-hans": "请在到期日前通过银行转账付款，并注明参考号 {reference}。"},
    "pay_online": {
        "en": "Please pay online by the due date: sign in to your billing account and choose "
              "Pay next to invoice {reference}.",
        "de": "Bitte bezahlen Sie bis zum Fälligkeitsdatum online: Melden Sie sich in Ihrem "
              "Rechnungskonto an und wählen Sie „Bezahlen“ bei der Rechnung {reference}.",
        "fr": "Merci de régler en ligne avant la date d'échéance : connectez-vous à votre "
              "espace de facturation et choisissez « Payer » à côté de la facture {reference}.",
        "es": "Por favor, pague en línea antes de la fecha de vencimiento: inicie sesión en su "
              "cuenta de facturación y elija «Pagar» junto a la factura {reference}.",
        "ja": "支払期限までにオンラインでお支払いください。請求アカウントにサインインし、"
              "請求書 {reference} の「支払う」を選択してください。",
        "zh-hans": "请在到期日前在线付款：登录您的账单账户，在发票 {reference} 旁选择“付款”。"},
    "reference": {"en": "Reference", "de": "Verwendungszweck", "fr": "Référence",
                  "es": "Referencia", "ja": "参照番号", "zh-hans": "参考号"},
    "account_holder": {"en": "Account holder", "de": "Kontoinhaber", "fr": "Titulaire",
                       "es": "Titular", "ja": "口座名義", "zh-hans": "账户名"},
    "bank": {"en": "Bank", "de": "Bank", "fr": "Banque", "es": "Banco", "ja": "銀行",
             "zh-hans": "银行"},
    "account_number": {"en": "Account number", "de": "Kontonummer", "fr": "N° de compte",
                       "es": "N.º de cuenta", "ja": "口座番号", "zh-hans": "账号"},
    "routing_number": {"en": "Routing number", "de": "Bankleitzahl", "fr": "Code banque",
                       "es": "Código bancario", "ja": "金融機関コード", "zh-hans": "银行代码"},
    "questions": {"en": "Questions about this document? Contact {contact}.",
                  "de": "Fragen zu diesem Dokument? Kontaktieren Sie {contact}.",
                  "fr": "Des questions sur ce document ? Contactez {contact}.",
                  "es": "¿Preguntas sobre este documento? Contacte con {contact}.",
                  "ja": "この書類に関するお問い合わせ：{contact}",
                  "zh-hans": "如对本文件有疑问，请联系 {contact}。"},
    "credits_invoice": {"en": "This credit note cancels invoice {number} in full.",
                        "de": "Diese Gutschrift storniert die Rechnung {number} vollständig.",
                        "fr": "Cet avoir annule intégralement la facture {number}.",
                        "es": "Esta factura rectificativa anula íntegramente la factura {number}.",
                        "ja": "本クレジットノートは請求書 {number} を全額取り消します。",
                        "zh-hans": "本贷项通知单全额冲销发票 {number}。"},
    "receipt_text": {"en": "We received your payment of {amount} for invoice {number}. Thank you.",
                     "de": "Wir haben Ihre Zahlung über {amount} für Rechnung {number} "
                           "erhalten. Vielen Dank.",
                     "fr": "Nous avons bien reçu votre paiement de {amount} pour la facture "
                           "{number}. Merci.",
                     "es": "Hemos recibido su pago de {amount} de la factura {number}. Gracias.",
                     "ja": "請求書 {number} に対する {amount} のお支払いを受領しました。"
                           "ありがとうございます。",
                     "zh-hans": "我们已收到您为发票 {number} 支付的 {amount}。谢谢。"},
    "payment_method": {"en": "Payment method", "de": "Zahlungsart", "fr": "Moyen de paiement",
                       "es": "Método de pago", "ja": "支払方法", "zh-hans": "付款方式"},
    "method_card": {"en": "Card", "de": "Karte", "fr": "Carte", "es": "Tarjeta",
                    "ja": "カード", "zh-hans": "银行卡"},
    "method_bank_transfer": {"en": "Bank transfer", "de": "Überweisung", "fr": "Virement",
                             "es": "Transferencia", "ja": "銀行振込", "zh-hans": "银行转账"},
    "method_other": {"en": "Other", "de": "Sonstige", "fr": "Autre", "es": "Otro",
                     "ja": "その他", "zh-hans": "其他"},
    "note_AE": {"en": "Reverse charge: VAT to be accounted for by the recipient "
                      "(Art. 196 Directive 2006/112/EC).",
                "de": "Steuerschuldnerschaft des Leistungsempfängers "
                      "(Art. 196 Richtlinie 2006/112/EG).",
                "fr": "Autoliquidation : TVA due par le preneur "
                      "(art. 196 directive 2006/112/CE).",
                "es": "Inversión del sujeto pasivo (art. 196 Directiva 2006/112/CE).",
                "ja": "リバースチャージ：VATは受領者が申告・納付します（EU指令2006/112/EC第196条）。",
                "zh-hans": "反向征收：增值税由收票方申报缴纳（欧盟指令 2006/112/EC 第196条）。"},
    "note_E": {"en": "Exempt from tax.", "de": "Steuerfrei.", "fr": "Exonéré de TVA.",
               "es": "Exento de impuestos.", "ja": "非課税。", "zh-hans": "免税。"},
    "note_O": {"en": "Not subject to tax in the seller's country.",
               "de": "Nicht im Land des Verkäufers steuerbar.",
               "fr": "Non soumis à la TVA dans le pays du vendeur.",
               "es": "No sujeto a impuestos en el país del vendedor.",
               "ja": "売主の国では課税対象外です。", "zh-hans": "不在卖方所在国征税范围内。"},
    "note_Z": {"en": "Zero-rated: no tax is charged on this sale.",
               "de": "Nullsatz: Auf diesen Umsatz wird keine Steuer erhoben.",
               "fr": "Taux zéro : aucune taxe n'est facturée sur cette vente.",
               "es": "Tipo cero: no se aplica ningún impuesto a esta venta.",
               "ja": "ゼロ税率：この取引には税金がかかりません。",
               "zh-hans": "零税率：本次销售不征税。"},
    "line_credits": {"en": "{count} credits", "de": "{count} Credits", "fr": "{count} crédits",
                     "es": "{count} créditos", "ja": "{count} クレジット", "zh-hans": "{count} 积分"},
    "line_plan_one_month": {"en": "{plan} {size}, 1 month ({start} to {end})",
                            "de": "{plan} {size}, 1 Monat ({start} bis {end})",
                            "fr": "{plan} {size}, 1 mois (du {start} au {end})",
                            "es": "{plan} {size}, 1 mes (del {start} al {end})",
                            "ja": "{plan} {size}、1か月（{start}〜{end}）",
                            "zh-hans": "{plan} {size}，1 个月（{start} 至 {end}）"},
    "line_plan": {"en": "{plan} {size}, {months} months ({start} to {end})",
                  "de": "{plan} {size}, {months} Monate ({start} bis {end})",
                  "fr": "{plan} {size}, {months} mois (du {start} au {end})",
                  "es": "{plan} {size}, {months} meses (del {start} al {end})",
                  "ja": "{plan} {size}、{months}か月（{start}〜{end}）",
                  "zh-hans": "{plan} {size}，{months} 个月（{start} 至 {end}）"},
    "page": {"en": "Page", "de": "Seite", "fr": "Page", "es": "Página", "ja": "ページ",
             "zh-hans": "页码"},
    "credit_note_date": {"en": "Issue date", "de": "Datum der Gutschrift", "fr": "Date de l'avoir",
                         "es": "Fecha de emisión", "ja": "発行日", "zh-hans": "开具日期"},
    # Emails
    "subject_invoice_issued": {"en": "Invoice {number}", "de": "Rechnung {number}",
                               "fr": "Facture {number}", "es": "Factura {number}",
                               "ja": "請求書 {number}", "zh-hans": "发票 {number}"},
    "subject_invoice_revised": {"en": "Updated invoice {number}",
                                "de": "Aktualisierte Rechnung {number}",
                                "fr": "Facture mise à jour {number}",
                                "es": "Factura actualizada {number}",
                                "ja": "請求書 {number}（改訂版）", "zh-hans": "更新的发票 {number}"},
    "subject_credit_note_issued": {"en": "Credit note {number} for invoice {invoice}",
                                   "de": "Gutschrift {number} zu Rechnung {invoice}",
                                   "fr": "Avoir {number} pour la facture {invoice}",
                                   "es": "Factura rectificativa {number} de la factura {invoice}",
                                   "ja": "請求書 {invoice} のクレジットノート {number}",
                                   "zh-hans": "发票 {invoice} 的贷项通知单 {number}"},
    "subject_payment_receipt": {"en": "Payment received for invoice {number}",
                                "de": "Zahlungseingang für Rechnung {number}",
                                "fr": "Paiement reçu pour la facture {number}",
                                "es": "Pago recibido de la factura {number}",
                                "ja": "請求書 {number} のお支払いを受領しました",
                                "zh-hans": "已收到发票 {number} 的付款"},
    "subject_po": {"en": "PO {po}", "de": "Bestellung {po}", "fr": "BC {po}",
                   "es": "Pedido {po}", "ja": "発注番号 {po}", "zh-hans": "采购订单 {po}"},
    "greeting": {"en": "Hello {name},", "de": "Guten Tag {name},", "fr": "Bonjour {name},",
                 "es": "Hola, {name}:", "ja": "{name} 様", "zh-hans": "{name}，您好："},
    "body_invoice_issued": {"en": "please find attached invoice {number} for {amount}.",
                            "de": "anbei erhalten Sie die Rechnung {number} über {amount}.",
                            "fr": "veuillez trouver ci-joint la facture {number} d'un montant "
                                  "de {amount}.",
                            "es": "adjuntamos la factura {number} por un importe de {amount}.",
                            "ja": "{amount} の請求書 {number} を添付いたします。",
                            "zh-hans": "随函附上金额为 {amount} 的发票 {number}。"},
    "body_invoice_revised": {"en": "invoice {number} was updated (revision {revision}); the "
                                   "amount is unchanged. The new version is attached.",
                             "de": "die Rechnung {number} wurde aktualisiert (Revision "
                                   "{revision}); der Betrag ist unverändert. Die neue Fassung "
                                   "liegt bei.",
                             "fr": "la facture {number} a été mise à jour (révision {revision}) ; "
                                   "le montant est inchangé. La nouvelle version est jointe.",
                             "es": "la factura {number} se ha actualizado (revisión {revision}); "
                                   "el importe no cambia. Adjuntamos la nueva versión.",
                             "ja": "請求書 {number} を更新しました（改訂 {revision}）。金額に変更は"
                                   "ありません。新しい版を添付いたします。",
                             "zh-hans": "发票 {number} 已更新（修订 {revision}），金额不变。"
                                        "附件为新版本。"},
    "body_credit_note_issued": {"en": "invoice {invoice} was cancelled. Credit note {number} "
                                      "for {amount} is attached.",
                                "de": "die Rechnung {invoice} wurde storniert. Anbei die "
                                      "Gutschrift {number} über {amount}.",
                                "fr": "la facture {invoice} a été annulée. L'avoir {number} "
                                      "de {amount} est joint.",
                                "es": "la factura {invoice} ha sido anulada. Adjuntamos la "
                                      "factura rectificativa {number} por {amount}.",
                                "ja": "請求書 {invoice} は取り消されました。{amount} の"
                                      "クレジットノート {number} を添付いたします。",
                                "zh-hans": "发票 {invoice} 已取消。随函附上金额为 {amount} 的"
                                           "贷项通知单 {number}。"},
    "body_payment_receipt": {"en": "thank you: we received your payment of {amount} for "
                                   "invoice {number}. Your receipt is attached.",
                             "de": "vielen Dank: Ihre Zahlung über {amount} für Rechnung "
                                   "{number} ist eingegangen. Die Bestätigung liegt bei.",
                             "fr": "merci : nous avons reçu votre paiement de {amount} pour la "
                                   "facture {number}. Votre reçu est joint.",
                             "es": "gracias: hemos recibido su pago de {amount} de la factura "
                                   "{number}. Adjuntamos su recibo.",
                             "ja": "請求書 {number} に対する {amount} のお支払いを受領しました。"
                                   "領収書を添付いたします。",
                             "zh-hans": "感谢您：我们已收到发票 {number} 的付款 {amount}。"
                                        "附件为收据。"},
    "body_due": {"en": "It is due on {date}.", "de": "Sie ist fällig am {date}.",
                 "fr": "Elle est payable au plus tard le {date}.",
                 "es": "Vence el {date}.", "ja": "お支払期限は {date} です。",
                 "zh-hans": "付款截止日期为 {date}。"},
    "sign_off": {"en": "Kind regards,", "de": "Mit freundlichen Grüßen", "fr": "Cordialement,",
                 "es": "Saludos cordiales,", "ja": "よろしくお願いいたします。",
                 "zh-hans": "此致敬礼"},
}  # fmt: skip


def normalise_language(language: str) -> str:
    code = (language or "en").lower()
    return code if code in LANGUAGES else "en"


def label(key: str, language: str, **values: str) -> str:
    text = _LABELS[key][normalise_language(language)]
    return text.format(**values) if values else text


def country_name(code: str, language: str) -> str:
    """The country's name in ``language`` (CLDR), or the code when CLDR has none."""
    territories = Locale.parse(BABEL_LOCALES[normalise_language(language)]).territories
    return str(territories.get(code, code))


def format_money(amount_minor: int, currency: str, language: str) -> str:
    return str(
        format_currency(
            minor_to_major(amount_minor, currency),
            currency,
            locale=BABEL_LOCALES[normalise_language(language)],
        )
    )


def format_day(day: date, language: str) -> str:
    return str(format_date(day, format="long", locale=BABEL_LOCALES[normalise_language(language)]))


def format_percent(rate: Decimal, language: str) -> str:
    value = format_decimal(
        rate.normalize() if rate == rate.to_integral() else rate,
        format="#,##0.##",
        locale=BABEL_LOCALES[normalise_language(language)],
    )
    return f"{value} %" if normalise_language(language) in {"de", "fr", "es"} else f"{value}%"


def format_quantity(quantity: int, language: str) -> str:
    return str(format_decimal(quantity, locale=BABEL_LOCALES[normalise_language(language)]))
