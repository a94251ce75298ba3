"""The demo clinic's treatment content in Spanish (issue 15), written for patients, not
machine-literal. seed_demo sets these as the `_es` fields (treatments/translation.py)."""

TREATMENTS_ES = {
    "microneedling": {
        "name": "Microagujas",
        "summary": "Terapia de inducción de colágeno para líneas finas, cicatrices de acné y "
        "textura irregular.",
        "description": (
            "El tratamiento con microagujas usa un dispositivo médico con agujas finas y "
            "estériles que crea miles de microcanales controlados en la piel. La piel responde "
            "produciendo colágeno y elastina nuevos, que suavizan las líneas finas, las "
            "cicatrices de acné y los poros dilatados en las semanas siguientes.\n"
            "Los resultados mejoran con cada sesión, por eso lo planificamos como un "
            "tratamiento completo."
        ),
        "what_to_expect": (
            "Limpiamos tu piel y aplicamos una crema anestésica, que tarda unos 30 minutos en "
            "hacer efecto. El tratamiento dura alrededor de una hora y se siente como una lija "
            "suave sobre la piel. Es normal tener enrojecimiento, como una quemadura de sol "
            "leve, durante 24 a 48 horas, y algo de sequedad o descamación unos días después."
        ),
        "precare": (
            "Deja de usar retinoides, ácidos exfoliantes y exfoliantes físicos 5 días antes de "
            "tu cita. Evita el sol y los autobronceadores la semana anterior. Avísanos si "
            "tienes herpes labial: quizá te recomendemos un antiviral antes de tratar la zona "
            "de la boca. Si puedes, ven con la piel limpia y sin maquillaje."
        ),
        "aftercare": (
            "Durante las primeras 24 horas, lávate solo con agua tibia y un limpiador suave, no "
            "uses maquillaje y evita sudar, nadar y las saunas. Usa el sérum hidratante y el "
            "protector solar mineral que te damos. Espera 5 días antes de volver a los "
            "retinoides o ácidos, y usa protector solar FPS 30 o más todos los días."
        ),
    },
    "microneedling-prp": {
        "name": "Microagujas con PRP",
        "summary": "Microagujas potenciadas con plasma rico en plaquetas de tu propia sangre.",
        "description": (
            "Conocido como «facial vampiro», este tratamiento combina las microagujas con "
            "plasma rico en plaquetas (PRP) preparado con una pequeña muestra de tu propia "
            "sangre. Los factores de crecimiento del PRP se aplican en los microcanales recién "
            "abiertos para favorecer la cicatrización y la producción de colágeno, con un "
            "cambio más visible en cicatrices profundas y textura que las microagujas solas."
        ),
        "what_to_expect": (
            "Extraemos un tubo pequeño de sangre y lo centrifugamos mientras la crema "
            "anestésica hace efecto. Las microagujas y la aplicación del PRP duran unos 75 "
            "minutos. Tu piel se verá enrojecida de 1 a 3 días; la mayoría de las personas "
            "retoma su rutina al día siguiente."
        ),
        "precare": (
            "Bebe mucha agua el día antes y el día de tu cita, y come antes de venir. Evita la "
            "aspirina, el ibuprofeno, el aceite de pescado y el alcohol los 3 días anteriores, "
            "porque aumentan los moretones. Deja los retinoides y los ácidos exfoliantes 5 "
            "días antes."
        ),
        "aftercare": (
            "Deja el PRP sobre la piel al menos 4 horas y luego enjuaga con agua tibia. Sin "
            "maquillaje durante 24 horas y sin retinoides ni ácidos durante 5 días. Evita el "
            "ejercicio intenso 48 horas y protege tu piel a diario con FPS 30 o más."
        ),
    },
    "chemical-peel": {
        "name": "Peeling químico",
        "summary": "Piel más luminosa, suave y de tono uniforme con un peeling de grado médico.",
        "description": (
            "Un peeling químico aplica una mezcla de ácidos (como glicólico, láctico o "
            "salicílico) que desprende las células opacas de la superficie para dejar ver una "
            "piel más fresca. Elegimos la intensidad según tu tipo de piel y tus objetivos, "
            "desde un peeling suave para dar luminosidad hasta uno más profundo para manchas "
            "solares, melasma o marcas de acné."
        ),
        "what_to_expect": (
            "Después de limpiar la piel, aplicamos el peeling en capas y controlamos el tiempo "
            "de cerca; es normal sentir un hormigueo cálido unos minutos. Según la intensidad, "
            "tu piel puede sentirse tirante y descamarse un poco entre el día 2 y el día 5."
        ),
        "precare": (
            "Deja los retinoides y los productos exfoliantes 5 días antes. Evita la depilación "
            "con cera, la depilación láser y las quemaduras de sol en la zona la semana "
            "anterior al peeling."
        ),
        "aftercare": (
            "Deja que la piel se desprenda sola: no la arranques. Usa un limpiador suave y una "
            "crema hidratante sencilla, y protector solar FPS 30 o más todos los días. No uses "
            "retinoides, ácidos ni exfoliantes hasta que termine la descamación."
        ),
    },
    "hydrafacial": {
        "name": "HydraFacial",
        "summary": "Limpieza profunda, extracción suave e hidratación, sin tiempo de recuperación.",
        "description": (
            "El HydraFacial limpia, exfolia y extrae con una succión suave en espiral, y "
            "después aplica sérums con antioxidantes, péptidos y ácido hialurónico. Es apto "
            "para todo tipo de piel y un favorito antes de un evento."
        ),
        "what_to_expect": (
            "Sesenta minutos relajantes, sin agujas y sin anestesia. Tu piel se verá fresca y "
            "luminosa al instante, y puedes maquillarte el mismo día."
        ),
        "precare": (
            "Deja los retinoides 2 días antes y evita depilarte la cara con cera la semana de "
            "tu cita."
        ),
        "aftercare": (
            "Mantén tu rutina sencilla durante 24 horas: sin retinoides, exfoliantes ni yoga "
            "caliente. Usa protector solar, como siempre."
        ),
    },
    "consultation": {
        "name": "Consulta de piel",
        "summary": "Una evaluación gratuita de tu piel de 30 minutos y un plan de tratamiento "
        "hecho para ti.",
        "description": (
            "Reúnete con una de nuestras esteticistas para hablar de tu piel, tus objetivos y "
            "tu historial médico. Examinamos tu piel de cerca, te explicamos qué tratamientos "
            "te convienen y cuántas sesiones esperar, y respondemos todas tus preguntas."
        ),
        "what_to_expect": (
            "Una conversación tranquila y una evaluación de la piel con buena luz. No hay "
            "tratamiento ni compromiso; te llevas un plan escrito con precios."
        ),
        "precare": "Si puedes, ven con la piel limpia y trae una lista de los productos que usas.",
        "aftercare": "Nada especial: reserva tu primera sesión cuando quieras.",
    },
}

SCREENING_ES = {
    "active_infection": {
        "condition": "Una infección activa en la piel de la zona, como herpes labial",
        "question": "¿Tienes una infección activa en la piel (como herpes labial) en la zona?",
        "explanation": "Debemos esperar a que la infección sane por completo. Con gusto te "
        "reservamos una consulta mientras tanto.",
    },
    "active_acne": {
        "condition": "Brotes de acné activos en la zona",
        "question": "¿Tienes brotes de acné activos en la zona a tratar?",
        "explanation": "Tratar sobre brotes activos puede extender la inflamación. Con gusto te "
        "reservamos una consulta mientras tanto.",
    },
    "pregnancy": {
        "condition": "Embarazo o lactancia",
        "question": "¿Estás embarazada o en período de lactancia?",
        "explanation": "No ofrecemos este tratamiento durante el embarazo ni la lactancia. Con "
        "gusto te reservamos una consulta para planificarlo más adelante.",
    },
    "fitzpatrick_iv_vi": {
        "condition": "Piel que se broncea con facilidad y rara vez se quema (fototipos IV a VI)",
        "question": "¿Tu piel se broncea con facilidad y rara vez o nunca se quema (fototipo IV "
        "a VI)?",
        "explanation": "Los tonos de piel más oscuros pueden reaccionar con manchas, así que "
        "empezamos con una consulta para adaptar el tratamiento a ti.",
    },
    "keloid_history": {
        "condition": "Antecedentes de queloides o cicatrices elevadas",
        "question": "¿Alguna vez has tenido queloides o cicatrices elevadas?",
        "explanation": "Empezamos con una consulta para comprobar que el tratamiento es seguro "
        "para tu piel.",
    },
    "isotretinoin": {
        "condition": "Isotretinoína (Accutane, Roaccutane) en los últimos 6 meses",
        "question": "¿Has tomado isotretinoína (Accutane, Roaccutane) en los últimos 6 meses?",
        "explanation": "Tu esteticista lo revisará contigo antes del tratamiento.",
    },
}
